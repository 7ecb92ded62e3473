// npm run build: the ESM and CommonJS builds of lib/ side by side, both by tsc (the only compiler that emits
// Nest's decorator metadata and the declaration files exactly), then the marker that makes dist/cjs CommonJS.
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const run = (project) =>
  new Promise((resolve, reject) => {
    spawn(process.execPath, [tsc, '-p', project], { stdio: 'inherit' }).on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`tsc -p ${project} failed (exit ${code})`)),
    );
  });

rmSync('dist', { recursive: true, force: true });
try {
  await Promise.all([run('tsconfig.build.json'), run('tsconfig.build-cjs.json')]);
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n');
