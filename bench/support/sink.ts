// A separate process playing both ends of the wire:
//   GET /api/v1/projects/:id: the project, for the module's startup check;
//   POST /api/v1/projects/:id/events[/broadcast|/fanout|/dynamic]: Convoy's event creation, answered with Convoy's
//     201 envelope (or, during a simulated outage, 503 with Retry-After: 1);
//   POST /hook/...: a customer's webhook receiver, answering 200.
// With `measure` on, the receiver parses each body and records now − body.emitted_at (both on the machine's clock,
// performance.timeOrigin + performance.now()) as the emit-to-receive latency.
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { serveCommands } from './child.js';

const CREATED = '{"status":true,"message":"Event queued successfully","data":null}';
const state = {
  events: 0,
  hooks: 0,
  signedHooks: 0,
  unauthorized: 0,
  outage: false,
  measure: false,
  latencies: [] as number[],
};

/** One waiter for a count of events or hooks (see `reached`): the bench waits without polling the counts over IPC. */
let waiter: { kind: 'events' | 'hooks'; count: number; resolve: () => void } | undefined;
const wakeWaiter = (): void => {
  if (waiter && state[waiter.kind] >= waiter.count) {
    waiter.resolve();
    waiter = undefined;
  }
};

const server = createServer((req, res) => {
  const url = req.url ?? '';
  if (req.method === 'GET' && url.startsWith('/api/v1/projects/')) {
    // The module's startup check: the key's project is the configured one, and outgoing.
    const uid = url.slice('/api/v1/projects/'.length).split(/[/?]/)[0];
    req.resume();
    return void res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        status: true,
        message: 'Project fetched successfully',
        data: { uid, name: 'bench', type: 'outgoing' },
      }),
    );
  }
  if (req.method === 'POST' && url.startsWith('/api/v1/projects/')) {
    req.resume();
    req.on('end', () => {
      if (state.outage)
        return void res
          .writeHead(503, { 'retry-after': '1', 'content-type': 'application/json' })
          .end('{"status":false,"message":"service unavailable"}');
      if (!req.headers.authorization) {
        state.unauthorized++;
        return void res
          .writeHead(401, { 'content-type': 'application/json' })
          .end('{"status":false,"message":"authorization failed"}');
      }
      state.events++;
      wakeWaiter();
      res.writeHead(201, { 'content-type': 'application/json' }).end(CREATED);
    });
    return;
  }
  if (req.method === 'POST' && url.startsWith('/hook')) {
    const measuring = state.measure;
    const chunks: Buffer[] = [];
    if (measuring) req.on('data', (chunk: Buffer) => chunks.push(chunk));
    else req.resume();
    req.on('end', () => {
      if (measuring) {
        const emittedAt = (JSON.parse(Buffer.concat(chunks).toString()) as { emitted_at?: number }).emitted_at;
        if (typeof emittedAt === 'number') state.latencies.push(performance.timeOrigin + performance.now() - emittedAt);
      }
      state.hooks++;
      if (req.headers['x-convoy-signature']) state.signedHooks++;
      wakeWaiter();
      res.writeHead(200).end();
    });
    return;
  }
  res.writeHead(404).end();
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  serveCommands(
    {
      counts: () => ({
        events: state.events,
        hooks: state.hooks,
        signedHooks: state.signedHooks,
        unauthorized: state.unauthorized,
      }),
      /** Resolves once `count` events (Convoy's side) or webhooks (the receivers') were received in all. */
      reached: ({ kind, count }: { kind: 'events' | 'hooks'; count: number }) =>
        state[kind] >= count ? undefined : new Promise<void>((resolve) => (waiter = { kind, count, resolve })),
      outage: (on: boolean) => void (state.outage = on),
      measure: (on: boolean) => {
        state.measure = on;
        if (on) state.latencies = [];
        return on ? undefined : state.latencies;
      },
    },
    { url: `http://127.0.0.1:${port}` },
  );
});
