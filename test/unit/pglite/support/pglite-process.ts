import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** What pglite-process.mjs prints. */
export interface ChildMessage {
  ready?: boolean;
  opened?: boolean;
  closed?: boolean;
  error?: string;
  message?: string;
}

const SCRIPT = new URL('./pglite-process.mjs', import.meta.url).pathname;

/** A child process that opens a PGlite data folder (see pglite-process.mjs), and what it printed. */
export class PGliteProcess {
  readonly messages: ChildMessage[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private stderr = '';
  private readonly listeners = new Set<() => void>();

  private constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.messages.push(JSON.parse(line) as ChildMessage);
      this.listeners.forEach((listener) => listener());
    });
    child.stderr!.on('data', (chunk) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => this.listeners.forEach((listener) => listener()));
  }

  /** `mode`: `storage` opens PGliteStorage on `dataDir`, `lock` only takes its lock. `go`: wait for go() first. */
  static start(
    mode: 'storage' | 'lock',
    dataDir: string,
    options: { templateCache?: string; go?: boolean } = {},
  ): PGliteProcess {
    const env = {
      ...process.env,
      NODE_OPTIONS: '',
      TEMPLATE_CACHE: options.templateCache ?? '',
      GO: options.go ? '1' : '',
    };
    return new PGliteProcess(
      spawn(process.execPath, [SCRIPT, mode, dataDir], { env, stdio: ['pipe', 'pipe', 'pipe'] }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The first message that matches, printed already or to come; rejects when the process exits without it. */
  next(match: (m: ChildMessage) => boolean): Promise<ChildMessage> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.messages.find(match);
        if (found) {
          this.listeners.delete(check);
          resolve(found);
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          this.listeners.delete(check);
          reject(
            new Error(
              `the child exited without the expected message; it printed ${JSON.stringify(this.messages)}, stderr: ${this.stderr}`,
            ),
          );
        }
      };
      this.listeners.add(check);
      check();
    });
  }

  /** The outcome of opening: {opened} or {error}. */
  outcome(): Promise<ChildMessage> {
    return this.next((m) => m.opened === true || m.error !== undefined);
  }

  send(line: 'go' | 'close' | 'exit'): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** Ends the process if it still runs (SIGKILL), and waits for its exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}
