import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ConvoyModule,
  WebhookDeliveries,
  WebhookEndpoints,
  WebhookPublisher,
  type ConvoyEventDelivery,
  type ConvoyModuleOptions,
  type DeliveryOptions,
  type EmbeddedOptions,
  type EventDeliveryStatus,
  type PublishReceipt,
} from '../../lib/index.js';
import { WebhookReceiver, type Responder } from './webhook-receiver.js';
import { PATIENCE_MS } from './wait.js';

/** Loopback only: what the e2e tests allow so that deliveries can reach receivers on 127.0.0.1. */
export const LOOPBACK = ['127.0.0.0/8', '::1/128'];

/** A running Nest application with ConvoyModule, and the three services the tests drive it through. */
export interface RunningApp {
  app: INestApplication;
  publisher: WebhookPublisher;
  endpoints: WebhookEndpoints;
  deliveries: WebhookDeliveries;
  /** Closes the application once (later calls, e.g. from the harness cleanup, do nothing). */
  close(): Promise<void>;
}

/** Builds apps and receivers for a test and closes them all afterwards (call cleanup() in afterEach). */
export class Harness {
  private readonly apps: RunningApp[] = [];
  private readonly receivers: WebhookReceiver[] = [];

  /**
   * A real Nest app whose ConvoyModule has no Convoy credentials, so the embedded engine delivers: `embedded` options
   * and the `delivery` options the tests tune (retry, concurrency, endpointConcurrency, maxSlowAttempts) in one object.
   */
  embedded(
    options: EmbeddedOptions &
      Pick<DeliveryOptions, 'retry' | 'concurrency' | 'endpointConcurrency' | 'maxSlowAttempts'> = {},
    extra: Partial<ConvoyModuleOptions> = {},
  ): Promise<RunningApp> {
    const { retry, concurrency, endpointConcurrency, maxSlowAttempts, ...embedded } = options;
    return this.start({
      embedded: { allowedAddresses: LOOPBACK, ...embedded },
      delivery: {
        retry: retry ?? { strategy: 'linear', delayMs: 0, attempts: 3 },
        concurrency,
        endpointConcurrency,
        maxSlowAttempts,
      },
      ...extra,
    });
  }

  /** The same, with exactly these module options (no defaults added). */
  async start(options: ConvoyModuleOptions): Promise<RunningApp> {
    const moduleRef = await Test.createTestingModule({ imports: [ConvoyModule.forRoot(options)] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    let closing: Promise<void> | undefined;
    const running: RunningApp = {
      app,
      publisher: app.get(WebhookPublisher),
      endpoints: app.get(WebhookEndpoints),
      deliveries: app.get(WebhookDeliveries),
      close: () => (closing ??= app.close()),
    };
    this.apps.push(running);
    return running;
  }

  async receiver(respond?: Responder): Promise<WebhookReceiver> {
    const receiver = await WebhookReceiver.start(respond);
    this.receivers.push(receiver);
    return receiver;
  }

  async cleanup(): Promise<void> {
    // Receivers first: an app closing waits for its attempts in flight, and a hanging receiver would hold it up.
    await Promise.all(this.receivers.splice(0).map((r) => r.close()));
    await Promise.all(this.apps.splice(0).map((a) => a.close()));
  }
}

/** Polls `read` until `done` holds for its value; fails with the last value seen after `timeoutMs`. */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = PATIENCE_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(value)?.slice(0, 2_000)}`,
      );
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until delivery `id` has one of `statuses`. */
export function waitForStatus(
  deliveries: WebhookDeliveries,
  id: string,
  statuses: EventDeliveryStatus | EventDeliveryStatus[],
  timeoutMs = PATIENCE_MS,
): Promise<ConvoyEventDelivery> {
  const wanted = Array.isArray(statuses) ? statuses : [statuses];
  return eventually(
    () => deliveries.get(id),
    (d) => wanted.includes(d.status),
    `delivery ${id} to be ${wanted.join(' or ')}`,
    timeoutMs,
  );
}

/** The deliveries the engine made of a published event (stored when publish() resolved). */
export async function deliveriesOf(running: RunningApp, receipt: PublishReceipt): Promise<ConvoyEventDelivery[]> {
  return (await running.deliveries.list({ idempotencyKey: receipt.idempotencyKey, perPage: 100 })).content;
}

/** The one delivery of an event published to a single endpoint. */
export async function onlyDeliveryOf(running: RunningApp, receipt: PublishReceipt): Promise<ConvoyEventDelivery> {
  const list = await deliveriesOf(running, receipt);
  if (list.length !== 1) throw new Error(`expected one delivery for ${receipt.idempotencyKey}, found ${list.length}`);
  return list[0]!;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
