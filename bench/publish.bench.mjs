// npm run bench: what WebhookPublisher costs and saves, as ratios against a hand-rolled baseline measured in
// the same run (absolute numbers vary by machine; the ratios are the targets). Uses the built package (dist/).
//
//   1. request path: awaiting publish() vs awaiting a raw undici POST to Convoy (what a hand-rolled `fetch`
//      in a controller costs), with Convoy answering in 20 ms.
//   2. throughput: events/s through publisher + dispatcher + ConvoyTransport vs raw undici POSTs with the
//      same concurrency, against a local Convoy stand-in that answers at once.
//   3. memory: heap held per buffered event while Convoy is down, vs the size of the event's JSON.
//   4. embedded engine: events/s from publish() to a local receiver (fanned out, stored, signed, logged) vs raw
//      undici POSTs of the same bodies to the same receiver, with the same concurrency.
//   5. durable outbox: events/s from 16 concurrent publishers through the outbox (PGlite, and PostgreSQL when
//      DATABASE_URL is set) to a Convoy stand-in, vs the in-memory dispatcher doing the same.
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import { Pool } from 'undici';
import { Test } from '@nestjs/testing';
import { NestFactory } from '@nestjs/core';
import { ConvoyClient, ConvoyModule, ConvoyTransport, WebhookDispatcher, WebhookEndpoints, WebhookPublisher } from '../dist/index.js';
import { PGliteStorage } from '../dist/pglite/index.js';
import { PostgresStorage } from '../dist/postgres/index.js';

Logger.overrideLogger(['error']);
const PROJECT = '01BENCHPROJECT00000000000P';
const payload = { id: 42, title: 'Buy milk', description: 'x'.repeat(200), completed: false, tags: ['home', 'errands'], created_at: new Date().toISOString() };
const payloadBytes = Buffer.byteLength(JSON.stringify(payload));

/** A Convoy stand-in: answers event creation with Convoy's 201 envelope after `delayMs`, or never when `hang`. */
async function convoy({ delayMs = 0, hang = false } = {}) {
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      if (hang) return;
      const answer = () => res.writeHead(201, { 'content-type': 'application/json' }).end('{"status":true,"message":"Event queued successfully","data":null}');
      delayMs ? setTimeout(answer, delayMs) : answer();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    get received() { return received; },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

function publisherFor(url, dispatcher = {}) {
  const client = new ConvoyClient({ baseUrl: `${url}/api`, apiKey: 'CO.bench.key', projectId: PROJECT });
  const d = new WebhookDispatcher(new ConvoyTransport(client), {
    concurrency: 8, bufferSize: 100_000, whenFull: 'wait', maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 1000, drainTimeout: 1000, ...dispatcher,
  });
  return { publisher: new WebhookPublisher(d, { broadcast: true }), dispatcher: d, client };
}

/** The baseline: what a controller doing its own POST to Convoy does. */
function rawPost(pool, body) {
  return pool.request({
    method: 'POST', path: `/api/v1/projects/${PROJECT}/events/broadcast`, body,
    headers: { authorization: 'Bearer CO.bench.key', 'content-type': 'application/json' },
  }).then((r) => r.body.text());
}

const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = [];
function report(name, ours, baseline, unit, ratio, target, met) {
  results.push({ name, ours: `${ours.toFixed(3)} ${unit}`, baseline: `${baseline.toFixed(3)} ${unit}`, ratio: ratio.toFixed(4), target, met: met ? 'yes' : 'NO' });
}

// 1. Request path latency.
{
  const server = await convoy({ delayMs: 20 });
  const { publisher, dispatcher, client } = publisherFor(server.url);
  const pool = new Pool(server.url, { connections: 8 });
  const ours = [], raw = [];
  for (let i = 0; i < 200; i++) {
    let t = performance.now();
    await publisher.publish('todo.created', payload);
    ours.push(performance.now() - t);
    t = performance.now();
    await rawPost(pool, JSON.stringify({ event_type: 'todo.created', data: payload, idempotency_key: `k${i}` }));
    raw.push(performance.now() - t);
  }
  await dispatcher.close();
  const o = median(ours), r = median(raw);
  report('request path: await publish() vs await raw POST (p50)', o, r, 'ms', o / r, '<= 0.05', o / r <= 0.05);
  await pool.close(); await client.close(); await server.close();
}

// 2. Throughput, end to end (accepted by Convoy).
{
  const N = 20_000;
  const server = await convoy();
  const pool = new Pool(server.url, { connections: 8 });
  let t = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < N) { const i = next++; await rawPost(pool, JSON.stringify({ event_type: 'todo.created', data: payload, idempotency_key: `r${i}` })); }
  }));
  const rawRate = N / ((performance.now() - t) / 1000);
  await pool.close();

  const { publisher, dispatcher, client } = publisherFor(server.url);
  t = performance.now();
  for (let i = 0; i < N; i++) await publisher.publish('todo.created', payload);
  await publisher.flush();
  const ourRate = N / ((performance.now() - t) / 1000);
  await dispatcher.close(); await client.close(); await server.close();
  report(`throughput: ${N} events (events/s, higher is better)`, ourRate, rawRate, 'ev/s', ourRate / rawRate, '>= 0.8', ourRate / rawRate >= 0.8);
}

// 3. Memory held per buffered event while Convoy does not answer.
{
  const N = 20_000;
  const server = await convoy({ hang: true });
  const { publisher, dispatcher, client } = publisherFor(server.url, { concurrency: 1 });
  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < N; i++) await publisher.publish('todo.created', { ...payload, id: i });
  global.gc?.();
  const perEvent = (process.memoryUsage().heapUsed - before) / N;
  report('memory: heap per buffered event vs its JSON size (bytes)', perEvent, payloadBytes, 'B', perEvent / payloadBytes, '<= 4', perEvent / payloadBytes <= 4);
  Logger.overrideLogger(false); // the abandoned events would each log an error
  void dispatcher.close(); await client.close().catch(() => {}); await server.close();
}

// 4. Embedded engine throughput, end to end (received by the endpoint).
{
  const N = 5_000;
  const receiver = await convoy();
  const pool = new Pool(receiver.url, { connections: 8 });
  const body = JSON.stringify(payload);
  let t = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < N) { next++; await pool.request({ method: 'POST', path: '/hook', body, headers: { 'content-type': 'application/json' } }).then((r) => r.body.text()); }
  }));
  const rawRate = N / ((performance.now() - t) / 1000);
  await pool.close();

  const moduleRef = await Test.createTestingModule({
    imports: [ConvoyModule.forRoot({ embedded: { allowedAddresses: ['127.0.0.0/8'], concurrency: 8, endpointConcurrency: 8 }, dispatcher: { bufferSize: 100_000 } })],
  }).compile();
  Logger.overrideLogger(['error']);
  const app = moduleRef.createNestApplication({ logger: ['error'] });
  await app.init();
  await app.get(WebhookEndpoints).create({ name: 'bench', url: `${receiver.url}/hook` });
  const publisher = app.get(WebhookPublisher);
  const before = receiver.received;
  t = performance.now();
  for (let i = 0; i < N; i++) await publisher.publish('todo.created', payload);
  while (receiver.received - before < N) await new Promise((r) => setTimeout(r, 5));
  const ourRate = N / ((performance.now() - t) / 1000);
  await app.close(); await receiver.close();
  report(`embedded engine: ${N} events delivered (events/s)`, ourRate, rawRate, 'ev/s', ourRate / rawRate, '>= 0.4', ourRate / rawRate >= 0.4);
}

// 5. The durable outbox vs the in-memory dispatcher, 16 concurrent publishers, end to end.
{
  const server = await convoy();
  async function run(storage, N) {
    const app = await NestFactory.createApplicationContext(
      ConvoyModule.forRoot({ baseUrl: `${server.url}/api`, apiKey: 'CO.bench.key', projectId: PROJECT, storage, outbox: { pollIntervalMs: 20, concurrency: 16, batchSize: 100 }, dispatcher: { concurrency: 16 } }),
      { logger: false },
    );
    const publisher = app.get(WebhookPublisher);
    const before = server.received;
    const latencies = [];
    let next = 0;
    const t = performance.now();
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < N) {
        next++;
        const s = performance.now();
        await publisher.publish('todo.created', payload);
        latencies.push(performance.now() - s);
      }
    }));
    while (server.received - before < N) await new Promise((r) => setTimeout(r, 5));
    const rate = N / ((performance.now() - t) / 1000);
    await app.close();
    return { rate, p50: median(latencies) };
  }
  const memory = await run(undefined, 3_000);
  const pglite = await run(await PGliteStorage.create({}), 2_000);
  report(`outbox on PGlite: events/s end to end (publish p50 ${pglite.p50.toFixed(2)} ms)`, pglite.rate, memory.rate, 'ev/s', pglite.rate / memory.rate, '>= 0.1', pglite.rate / memory.rate >= 0.1);
  if (process.env.DATABASE_URL) {
    const schema = `nc_bench_${process.pid}`;
    const storage = await PostgresStorage.create({ connectionString: process.env.DATABASE_URL, schema });
    const postgres = await run(storage, 3_000);
    report(`outbox on PostgreSQL: events/s end to end (publish p50 ${postgres.p50.toFixed(2)} ms)`, postgres.rate, memory.rate, 'ev/s', postgres.rate / memory.rate, '>= 0.2', postgres.rate / memory.rate >= 0.2);
    const cleanup = await PostgresStorage.create({ connectionString: process.env.DATABASE_URL, schema });
    await cleanup.db.query(`DROP SCHEMA "${schema}" CASCADE`);
    await cleanup.close();
  }
  await server.close();
}

console.table(results);
const missed = results.filter((r) => r.met !== 'yes');
console.log(missed.length === 0 ? 'All targets met.' : `${missed.length} target(s) missed.`);
process.exit(missed.length === 0 ? 0 : 1);
