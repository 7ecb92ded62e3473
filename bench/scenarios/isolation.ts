// 6. Isolation between endpoints (the embedded engine with its default limits): a healthy endpoint's emit → receive
// p99 beside 8 endpoints that never answer (http_timeout 300 s) against the same without them; and the first delivery
// to a healthy endpoint right after 4 endpoints that never answer (http_timeout 10 s) took their slots.
import { NestFactory } from '@nestjs/core';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConvoyModule, WebhookEndpoints, WebhookPublisher } from '../../lib/index.js';
import { todo } from '../support/constants.js';
import { atFixedRate, clock, cpuTime, median, percentile, waitUntil } from '../support/measure.js';
import { n, type BenchReport } from '../support/report.js';
import { hooksReached, sinkCounts, type Sink } from '../support/sink-client.js';

/** `delivery.endpointConcurrency`'s default: what each hanging endpoint holds in flight. */
const ENDPOINT_CONCURRENCY = 4;
const RATE = 200;
const SECONDS = 4;
/** Rounds of each kind; the median counts (a shared 2-core machine stalls now and then). */
const ROUNDS = 5;

/** A loopback server that accepts every request and never answers; `requests()` counts those it holds. */
async function hangingServer() {
  let requests = 0;
  const server = createServer(() => void requests++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    requests: () => requests,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

async function embeddedApp() {
  const app = await NestFactory.createApplicationContext(
    ConvoyModule.forRoot({ embedded: { allowedAddresses: ['127.0.0.0/8'] }, delivery: { bufferSize: 100_000 } }),
    { logger: false },
  );
  return { app, endpoints: app.get(WebhookEndpoints), publisher: app.get(WebhookPublisher) };
}

/** Endpoints that never answer, each given enough events to hold its share in flight and more waiting. */
async function hang(
  count: number,
  httpTimeout: number,
  { endpoints, publisher }: Awaited<ReturnType<typeof embeddedApp>>,
) {
  const servers = await Promise.all(Array.from({ length: count }, hangingServer));
  for (const [i, server] of servers.entries()) {
    const { uid } = await endpoints.create({ name: `hanging-${i}`, url: server.url, http_timeout: httpTimeout });
    for (let k = 0; k < ENDPOINT_CONCURRENCY * 2; k++)
      await publisher.publish('todo.created', todo, { endpointId: uid });
  }
  return servers;
}

/** Latencies of `count` deliveries to `endpointId` published at RATE, and this process's CPU µs per event. */
async function latencies(receiver: Sink, publisher: WebhookPublisher, endpointId: string) {
  const seconds = SECONDS;
  const events = RATE * seconds;
  const before = (await sinkCounts(receiver)).hooks;
  await receiver.call('measure', true);
  const { cpuUs } = await cpuTime(async () => {
    await atFixedRate(RATE, seconds, () =>
      publisher.publish('todo.created', { ...todo, emitted_at: clock() }, { endpointId }),
    );
    await hooksReached(receiver, before + events);
  });
  const measured = await receiver.call<number[]>('measure', false);
  if (measured.length !== events) throw new Error(`bench: ${measured.length} of ${events} timed deliveries arrived`);
  return { p99: percentile(measured, 99), cpu: cpuUs / events };
}

/** One delivery to a healthy endpoint: emit → receive, ms. */
async function oneDelivery(receiver: Sink, publisher: WebhookPublisher, endpointId: string): Promise<number> {
  const before = (await sinkCounts(receiver)).hooks;
  await receiver.call('measure', true);
  await publisher.publish('todo.created', { ...todo, emitted_at: clock() }, { endpointId });
  await hooksReached(receiver, before + 1, 120_000);
  return (await receiver.call<number[]>('measure', false))[0]!;
}

export async function isolation(report: BenchReport, receiver: Sink): Promise<void> {
  const section = '6 isolation between endpoints';
  const healthyUrl = `${receiver.ready.url}/hook/healthy`;

  let running = await embeddedApp();
  let servers: Awaited<ReturnType<typeof hang>> = [];
  try {
    const healthy = (await running.endpoints.create({ name: 'healthy', url: healthyUrl })).uid;
    await latencies(receiver, running.publisher, healthy); // warm-up
    const alone = [],
      beside = [];
    for (let round = 0; round < ROUNDS; round++) alone.push(await latencies(receiver, running.publisher, healthy));
    servers = await hang(8, 300, running);
    // Every hanging endpoint holds its share in flight (past the overall concurrency: they were moved out of it).
    await waitUntil(() => servers.every((s) => s.requests() === ENDPOINT_CONCURRENCY), 'the hanging attempts');
    for (let round = 0; round < ROUNDS; round++) beside.push(await latencies(receiver, running.publisher, healthy));
    const p99 = (rounds: Array<{ p99: number }>) => median(rounds.map((r) => r.p99));
    const cpu = (rounds: Array<{ cpu: number }>) => median(rounds.map((r) => r.cpu));
    const rounds = (rs: Array<{ p99: number }>) => rs.map((r) => r.p99.toFixed(1)).join('/');
    report.add({
      section,
      name: `healthy endpoint's emit → receive p99 at ${n(RATE)} ev/s beside 8 endpoints that never answer (http_timeout 300 s), vs alone (beside ${rounds(beside)}, alone ${rounds(alone)} ms)`,
      ours: `${p99(beside).toFixed(2)} ms`,
      baseline: `${p99(alone).toFixed(2)} ms`,
      ratio: p99(beside) / p99(alone),
      target: '≤ 2',
      met: p99(beside) / p99(alone) <= 2,
      oursCpuUs: cpu(beside),
      baselineCpuUs: cpu(alone),
    });
  } finally {
    for (const server of servers) server.close();
    await running.app.close();
  }

  // The case: the first delivery after 4 hanging endpoints (10 s) took 16 slots, the default concurrency.
  running = await embeddedApp();
  servers = [];
  try {
    const healthy = (await running.endpoints.create({ name: 'healthy', url: healthyUrl })).uid;
    await oneDelivery(receiver, running.publisher, healthy); // warm-up
    const alone = await oneDelivery(receiver, running.publisher, healthy);
    servers = await hang(4, 10, running);
    await waitUntil(
      () => servers.reduce((sum, s) => sum + s.requests(), 0) === 4 * ENDPOINT_CONCURRENCY,
      'the hanging attempts',
    );
    const first = await oneDelivery(receiver, running.publisher, healthy);
    report.add({
      section,
      name: 'first delivery to a healthy endpoint just after 4 endpoints that never answer (http_timeout 10 s) took 16 slots, vs alone',
      ours: `${first.toFixed(1)} ms`,
      baseline: `${alone.toFixed(1)} ms`,
      ratio: first / alone,
      target: 'reported',
    });
  } finally {
    for (const server of servers) server.close();
    await running.app.close();
  }
}
