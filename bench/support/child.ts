// Bench helpers run in child processes (the sink, the receiver, the Todo app) so that what is measured does not
// share a CPU with what it talks to. A child answers named commands over the IPC channel.
import { fork, type ChildProcess } from 'node:child_process';

// Each handler types its own args; what arrives over IPC is not checked.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a handler of any args type must fit the record
type Handlers = Record<string, (args: any) => unknown>;

/** In the child: answer `{ id, command, args }` messages with `handlers[command](args)`, then report ready. */
export function serveCommands(handlers: Handlers, ready: unknown): void {
  // The answer never rejects: a failing handler is answered with its error.
  const answer = async (message: { id: number; command: string; args: unknown }): Promise<void> => {
    try {
      const handler = handlers[message.command];
      if (!handler) throw new Error(`unknown command ${message.command}`);
      process.send!({ id: message.id, result: await handler(message.args) });
    } catch (error) {
      process.send!({ id: message.id, error: (error as Error).stack ?? String(error) });
    }
  };
  process.on('message', (message: { id: number; command: string; args: unknown }) => void answer(message));
  // The parent's death ends the child, so a crashed bench leaves nothing running.
  process.on('disconnect', () => process.exit(0));
  // An exit of its own on stop(), so that a `--cpu-prof` of BENCH_CHILD_FLAGS gets written.
  process.on('SIGTERM', () => process.exit(0));
  process.send!({ ready });
}

/** In the parent: a forked child process and its commands. */
export class BenchChild<Ready = unknown> {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly child: ChildProcess,
    readonly ready: Ready,
  ) {
    child.on('message', (message: { id: number; result?: unknown; error?: string }) => {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.error !== undefined) waiter.reject(new Error(message.error));
      else waiter.resolve(message.result);
    });
  }

  static start<Ready>(module: URL, env: Record<string, string> = {}): Promise<BenchChild<Ready>> {
    const child = fork(module, [], {
      env: { ...process.env, ...env },
      // BENCH_CHILD_FLAGS: more Node flags for every child, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` or `--trace-gc`.
      execArgv: ['--expose-gc', ...(process.env.BENCH_CHILD_FLAGS?.split(' ').filter(Boolean) ?? [])],
      serialization: 'advanced',
    });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`${module.pathname} exited with ${code} before it was ready`)));
      child.once('message', (message: { ready: Ready }) => resolve(new BenchChild(child, message.ready)));
    });
  }

  call<T = unknown>(command: string, args?: unknown): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: (value) => resolve(value as T), reject });
      this.child.send({ id, command, args });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.removeAllListeners('exit');
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    // The child exits on SIGTERM by itself (see serveCommands); one whose event loop is stuck is killed.
    const stuck = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(stuck);
  }
}
