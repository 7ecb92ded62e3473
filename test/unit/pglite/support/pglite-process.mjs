// A child process for the data folder lock tests, on the built package (dist/, which `npm test` builds first).
// argv: <mode> <dataDir>; mode `storage` opens PGliteStorage (TEMPLATE_CACHE: the template folder), mode `lock` only
// takes the lock. With GO=1 it waits for a "go" line first, so that several children start together.
// Prints JSON lines: {"ready":true} once loaded, then {"opened":true} or {"error":name,"message":...}; on a "close"
// line it closes and prints {"closed":true}, then exits; on an "exit" line it exits without closing.
import { createInterface } from 'node:readline';
import { Logger } from '@nestjs/common';

const [mode, dataDir] = process.argv.slice(2);
Logger.overrideLogger(false);
const print = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
const lines = createInterface({ input: process.stdin });
const nextLine = (expected) =>
  new Promise((resolve) => lines.on('line', (line) => line.trim() === expected && resolve()));

const open =
  mode === 'lock'
    ? await import('../../../../dist/esm/storage/pglite/data-dir-lock.js').then(({ DataDirLock }) => async () => {
        const lock = await DataDirLock.acquire(dataDir);
        return () => lock.release();
      })
    : await import('../../../../dist/esm/storage/pglite/index.js').then(({ PGliteStorage }) => async () => {
        const storage = await PGliteStorage.create({ dataDir, templateCache: process.env.TEMPLATE_CACHE || undefined });
        await storage.db.query('SELECT 1');
        return () => storage.close();
      });
print({ ready: true });
if (process.env.GO) await nextLine('go');
let close;
try {
  close = await open();
  print({ opened: true });
} catch (error) {
  print({ error: error.name, message: error.message });
  process.exit(0);
}
// "close": close, then exit; "exit": exit without closing (the exit handler marks the lock released).
lines.on('line', (line) => line.trim() === 'exit' && process.exit(0));
await nextLine('close');
await close();
print({ closed: true });
process.exit(0);
