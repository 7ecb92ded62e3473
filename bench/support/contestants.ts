// The contestants of the throughput and latency comparisons (1 publish → Convoy, 3 the embedded engine): our
// publisher and the loops it is measured against. Each runs in a process of its own (bench/support/contestant.ts).
import { createHmac, randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { Pool } from 'undici';
import {
  ConvoyClient,
  ConvoyModule,
  WebhookEndpoints,
  WebhookPublisher,
  type ConvoyModuleOptions,
} from '../../lib/index.js';
import { RawJson } from '../../lib/client/raw-json.js';
import { DEFAULT_API_VERSION } from '../../lib/options/option-tables.js';
import { PACKAGE_VERSION } from '../../lib/version.js';
import { API_KEY, PROJECT, todo } from './constants.js';

/** Sends at the same time, for us (delivery.concurrency) and for the loops. */
export const CONCURRENCY = 8;

export interface Contestant {
  /** Callers sending at once in a throughput round. */
  readonly callers: number;
  /**
   * Sends event `i` (carrying `emitted_at` when given, for the receiver's latency). A loop resolves once it was
   * answered; the publisher once publish() accepted it (the bench then waits for the receiver's count).
   */
  send(i: number, emittedAt?: number): Promise<unknown>;
  /** A contestant that sends nowhere: resolves once everything published was handed over, with how many so far. */
  handedOver?(): Promise<number>;
  close(): Promise<void>;
}

const data = (emittedAt: number | undefined) => (emittedAt === undefined ? todo : { ...todo, emitted_at: emittedAt });

/** What ConvoyTransport sends for a broadcast, byte for byte the same request, for the loops. */
const convoyBody = (i: number, emittedAt?: number) =>
  JSON.stringify({ event_type: 'todo.created', data: data(emittedAt), idempotency_key: `bench-${i}` });
const convoyPath = `/api/v1/projects/${PROJECT}/events/broadcast`;
const convoyHeaders = {
  authorization: `Bearer ${API_KEY}`,
  'x-convoy-version': DEFAULT_API_VERSION,
  'user-agent': `nestjs-convoy/${PACKAGE_VERSION}`,
  accept: 'application/json',
  'content-type': 'application/json',
};
const hookHeaders = { 'content-type': 'application/json' };

/** A loop over undici's Pool.request(); `headersOf` makes each request's headers from its body (a signature). */
function poolContestant(
  url: string,
  path: string,
  headers: Record<string, string>,
  body: typeof convoyBody,
  headersOf?: (body: string) => Record<string, string>,
) {
  const pool = new Pool(url, { connections: CONCURRENCY });
  const post = (payload: string) =>
    pool.request({ method: 'POST', path, headers: headersOf ? headersOf(payload) : headers, body: payload });
  return {
    callers: CONCURRENCY,
    send: (i: number, emittedAt?: number) => post(body(i, emittedAt)).then((r) => r.body.text()),
    close: () => pool.close(),
  };
}

/** Our publisher in a Nest application context, `callers` publishing at once. */
async function publisherContestant(
  options: ConvoyModuleOptions,
  callers: number,
  setup?: (app: { get: NestGet }) => Promise<unknown>,
) {
  const app = await NestFactory.createApplicationContext(ConvoyModule.forRoot(options), { logger: false });
  await setup?.(app);
  const publisher = app.get(WebhookPublisher);
  return {
    callers,
    send: (_i: number, emittedAt?: number) => publisher.publish('todo.created', data(emittedAt)),
    close: () => app.close(),
  };
}
type NestGet = <T>(type: abstract new (...args: never[]) => T) => T;

/** The publisher's options for the Convoy sink at `url`. */
const toConvoy = (url: string): ConvoyModuleOptions => ({
  convoy: { baseUrl: `${url}/api`, apiKey: API_KEY, projectId: PROJECT },
  defaultTarget: { broadcast: true },
  delivery: { concurrency: CONCURRENCY }, // and the default buffer of 10 000 events, publish() waiting when full
});

/** By name (`convoy:`, `hook:`: what the sink counts; `none:`, nothing sent); `url` is the sink's. */
export const contestants: Record<string, (url: string) => Promise<Contestant>> = {
  /** (1) The practical limit: undici's documented request API, what a hand-written client would use. */
  'convoy:request': async (url) => poolContestant(url, convoyPath, convoyHeaders, convoyBody),
  /** (1) The floor: undici's low-level dispatch() with a handler that only collects the answer. */
  'convoy:dispatch': async (url) => {
    const pool = new Pool(url, { connections: CONCURRENCY });
    return {
      callers: CONCURRENCY,
      send: (i, emittedAt) =>
        new Promise((resolve, reject) => {
          const chunks: Buffer[] = [];
          pool.dispatch(
            { method: 'POST', path: convoyPath, headers: convoyHeaders, body: convoyBody(i, emittedAt) },
            {
              onRequestStart: () => undefined, // marks the handler as undici's current API
              onResponseData: (_c, chunk) => void chunks.push(chunk),
              onResponseEnd: () => resolve(Buffer.concat(chunks).toString()),
              onResponseError: (_c, error) => reject(error),
            },
          );
        }),
      close: () => pool.close(),
    };
  },
  /** (1) A loop over global fetch, as Convoy's JavaScript SDK sends. */
  'convoy:fetch': async (url) => ({
    callers: CONCURRENCY,
    send: (i, emittedAt) =>
      fetch(url + convoyPath, { method: 'POST', headers: convoyHeaders, body: convoyBody(i, emittedAt) }).then((r) =>
        r.text(),
      ),
    close: async () => undefined,
  }),
  /** (1) Our typed client alone: events.broadcast() with the data as published bytes (as ConvoyTransport sends). */
  'convoy:client': async (url) => {
    const client = new ConvoyClient({ baseUrl: `${url}/api`, apiKey: API_KEY, projectId: PROJECT });
    const options = { retry: false as const };
    return {
      callers: CONCURRENCY,
      send: (i, emittedAt) =>
        client.events.broadcast(
          {
            event_type: 'todo.created',
            data: new RawJson(JSON.stringify(data(emittedAt))),
            idempotency_key: `bench-${i}`,
          },
          options,
        ),
      close: () => client.close(),
    };
  },
  /**
   * (1) WebhookPublisher to Convoy without storage, 16 callers (requests of an app) publishing at once. With the
   * default options and @opentelemetry/api installed but no SDK registered: (7)'s no-op.
   */
  'convoy:ours': (url) => publisherContestant(toConvoy(url), 16),
  /** (6) The same with a zod catalog of the todo, checked on every publish ('reject'). */
  'convoy:ours-catalog': async (url) => {
    const { todoCatalog } = await import('./todo-catalog.js'); // zod is loaded by this contestant only
    return publisherContestant({ ...toConvoy(url), events: todoCatalog, eventValidation: 'reject' }, 16);
  },
  /** (7) The same with `telemetry: false`. */
  'convoy:ours-telemetry-off': (url) => publisherContestant({ ...toConvoy(url), telemetry: false }, 16),
  /** (7) The same with an OpenTelemetry SDK registered: spans batched to an exporter that drops them, metrics. */
  'convoy:ours-otel-sdk': async (url) => {
    const { registerDroppingSdk } = await import('./otel-sdk.js');
    const shutdown = registerDroppingSdk();
    const contestant = await publisherContestant(toConvoy(url), 16);
    return { ...contestant, close: () => contestant.close().then(shutdown) };
  },
  /** (1) Our own cost: publish() → pipeline → in-memory store → a transport without I/O, 16 callers. */
  'none:ours': async () => {
    let sent = 0;
    const app = await NestFactory.createApplicationContext(
      ConvoyModule.forRoot({
        transport: { name: 'none', send: async () => void sent++ },
        delivery: { concurrency: CONCURRENCY, bufferSize: 100_000 },
      }),
      { logger: false },
    );
    const publisher = app.get(WebhookPublisher);
    return {
      callers: 16,
      send: (_i, emittedAt) => publisher.publish('todo.created', data(emittedAt)),
      handedOver: () => publisher.flush().then(() => sent),
      close: () => app.close(),
    };
  },
  /** (3) A raw POST of the same data to the receiver. */
  'hook:request': async (url) => poolContestant(url, '/hook/raw', hookHeaders, (_i, at) => JSON.stringify(data(at))),
  /**
   * (3) What a hand-written sender must do besides posting: the embedded engine's request, header for header (an
   * idempotency key per event, Convoy's advanced signature over `timestamp,body` with HMAC-SHA256), nothing logged.
   */
  'hook:signed': async (url) => {
    const secret = 'bench-signing-secret-0123456789abcdef';
    return poolContestant(
      url,
      '/hook/signed',
      {},
      (_i, at) => JSON.stringify(data(at)),
      (body) => {
        const timestamp = Math.floor(Date.now() / 1000);
        const digest = createHmac('sha256', secret).update(`${timestamp},`).update(body).digest('hex');
        return {
          'Content-Type': 'application/json',
          'User-Agent': `nestjs-convoy/${PACKAGE_VERSION}`,
          'Accept-Encoding': 'gzip',
          'X-Convoy-Idempotency-Key': randomUUID(),
          'X-Convoy-Signature': `t=${timestamp},v1=${digest}`,
        };
      },
    );
  },
  /** (3) The embedded engine: fanned out to one endpoint, stored, signed, sent, logged; one caller publishing. */
  'hook:ours': (url) =>
    publisherContestant(
      {
        embedded: { allowedAddresses: ['127.0.0.0/8'] },
        delivery: { concurrency: CONCURRENCY, endpointConcurrency: CONCURRENCY, bufferSize: 100_000 },
      },
      1,
      (app) => app.get(WebhookEndpoints).create({ name: 'bench', url: `${url}/hook/bench` }),
    ),
};
