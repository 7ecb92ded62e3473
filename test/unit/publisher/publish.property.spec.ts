import fc from 'fast-check';
import { ConvoyError, WebhookValidationError } from '../../../lib/index.js';
import { handOverRoute } from '../../../lib/pipeline/hand-over.route.js';
import { DeliveryPipeline } from '../../../lib/pipeline/pipeline.js';
import { WebhookPublisher } from '../../../lib/publishing/webhook-publisher.js';
import type { PublishOptions } from '../../../lib/publishing/webhook.types.js';
import { InMemoryWebhookStore } from '../../../lib/storage/in-memory.store.js';
import { RecordingTransport } from '../../../lib/testing/index.js';
import { pipelineSettings } from '../../support/pipeline-settings.js';

/**
 * Property-based: over arbitrary publish() input, nasty values included, publish() never fails with anything but
 * WebhookValidationError, and whatever it accepts is sent as JSON that parses back to the value given (as JSON
 * defines it: undefined properties left out, dates as ISO strings, -0 as 0, boxed primitives unboxed).
 * Small limits, so that the generated input crosses them too. numRuns keeps each property to a few seconds.
 */
const LIMITS = { maxPayloadBytes: 2_048, maxUrlLength: 96, maxHeaders: 4, maxHeaderBytes: 200, maxEventTypeLength: 24 };

describe('publish() over arbitrary input (fast-check)', () => {
  let transport: RecordingTransport;
  let pipeline: DeliveryPipeline;
  let publisher: WebhookPublisher;

  beforeAll(() => {
    transport = new RecordingTransport();
    pipeline = new DeliveryPipeline(
      new InMemoryWebhookStore({ capacity: 100_000, whenFull: 'reject' }),
      handOverRoute(transport),
      pipelineSettings({
        concurrency: 8,
        endpointConcurrency: 8,
        drainTimeoutMs: 5_000,
        retry: { attempts: 1, strategy: 'linear', delayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 },
      }),
    );
    pipeline.start();
    publisher = new WebhookPublisher(pipeline, { broadcast: true }, LIMITS);
  });
  afterAll(() => pipeline.close());

  /** Publishes; returns what was sent, or the error (which must be ours). */
  async function attempt(eventType: unknown, data: unknown, options: unknown) {
    transport.sent.length = 0;
    try {
      await publisher.publish(eventType as string, data, options as PublishOptions);
      await publisher.flush();
      expect(transport.sent).toHaveLength(1);
      return { error: undefined, sent: transport.sent[0]! };
    } catch (error) {
      if (!(error instanceof WebhookValidationError)) throw error; // fast-check reports the input
      expect(error).toBeInstanceOf(ConvoyError);
      expect(error.message).toBe(`Cannot publish webhook: ${error.field} ${error.reason}`);
      return { error, sent: undefined };
    }
  }

  it('data: any value is either sent as its JSON, or refused with WebhookValidationError', async () => {
    await fc.assert(
      fc.asyncProperty(nastyData(), async (data) => {
        const { error, sent } = await attempt('todo.created', data, undefined);
        if (error) {
          expect(error.field).toMatch(/^data/);
          return;
        }
        expect(JSON.parse(sent!.payload)).toEqual(asJson(data));
        expect(Buffer.byteLength(sent!.payload)).toBeLessThanOrEqual(LIMITS.maxPayloadBytes);
      }),
      { numRuns: 200 },
    );
  });

  it('event types, options and headers: accepted as given, or refused with WebhookValidationError', async () => {
    await fc.assert(
      fc.asyncProperty(eventTypes(), publishOptions(), async (eventType, options) => {
        const { sent } = await attempt(eventType, { ok: true }, options);
        if (!sent) return;
        expect(sent.eventType).toBe(eventType);
        expect(typeof eventType === 'string' && eventType.length <= LIMITS.maxEventTypeLength).toBe(true);
        expect(eventType).toMatch(/^[\p{L}\p{M}\p{N}\p{P}\p{S}]+$/u);
        const headers = (options as PublishOptions | undefined)?.headers ?? {};
        expect({ ...sent.headers }).toEqual({ ...headers });
        expect(Object.keys(headers).length).toBeLessThanOrEqual(LIMITS.maxHeaders);
        const target = options as PublishOptions | undefined;
        if (target?.url !== undefined) expect(sent.target).toMatchObject({ url: target.url });
      }),
      { numRuns: 300 },
    );
  });
});

/** JSON-ish values and the values JSON mishandles, nested: what apps pass by mistake. */
function nastyData(): fc.Arbitrary<unknown> {
  const leaf = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(
      undefined,
      NaN,
      Infinity,
      -0,
      10n,
      Symbol('s'),
      () => 1,
      new Date(0),
      new Date(NaN),
      new Map([[1, 2]]),
      new Set([1]),
      new Uint8Array([1, 2]),
      Buffer.from('buf'),
      new ArrayBuffer(2),
      new Number(NaN),
      new Number(1),
      new String('boxed'),
      { toJSON: () => NaN },
      { toJSON: () => ({ fine: [1, 2] }) },
      {
        toJSON: () => {
          throw new Error('no');
        },
      },
      Object.defineProperty({}, 'boom', {
        enumerable: true,
        get: () => {
          throw new Error('getter');
        },
      }),
      { [Symbol('key')]: 1, a: 1 },
      Object(Symbol('boxed')) as object,
      Object(1n) as object,
      Object.assign([1, 2], { total: 2 }),
      // eslint-disable-next-line no-sparse-arrays -- a hole, on purpose
      [1, , 3],
      JSON.parse('{"__proto__": {"polluted": true}}') as unknown,
      Object.assign(Object.create(null) as object, { bare: 1 }),
      deeplyNested(20_000),
      'x'.repeat(3_000),
      'é'.repeat(1_000),
    ),
    fc.anything({
      maxDepth: 2,
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
      withUnicodeString: true,
    }),
  );
  return fc.oneof(
    leaf,
    fc.array(leaf, { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), leaf, { maxKeys: 4 }),
    circular(),
  );
}

function deeplyNested(depth: number): unknown {
  let value: unknown = [];
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

function circular(): fc.Arbitrary<unknown> {
  return fc.constant(null).map(() => {
    const parent: Record<string, unknown> = { child: {} };
    (parent.child as Record<string, unknown>).parent = parent;
    return parent;
  });
}

/** What JSON.parse(JSON.stringify(value)) must give for a value publish() accepted, written out independently. */
function asJson(value: unknown): unknown {
  if (value instanceof Number || value instanceof String || value instanceof Boolean) return asJson(value.valueOf());
  if (typeof value === 'number') return Object.is(value, -0) ? 0 : value;
  if (value === null || typeof value !== 'object') return value;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function')
    return asJson((value as { toJSON: () => unknown }).toJSON());
  if (Array.isArray(value)) return value.map(asJson);
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value))
    if (child !== undefined && typeof child !== 'function')
      Object.defineProperty(out, key, { value: asJson(child), enumerable: true, writable: true, configurable: true });
  return out;
}

function eventTypes(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.stringMatching(/^[a-z]{1,8}(\.[a-z]{1,8}){0,2}$/),
    fc.string({ maxLength: 30 }),
    fc.string({ unit: 'binary', maxLength: 30 }), // any code point, lone surrogates included
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.constantFrom('todo created', 'todo.\u202ecreated', 'todo.\u200bcreated', ' todo', 'é'.repeat(25), ''),
    fc.anything({ maxDepth: 1 }),
  );
}

function publishOptions(): fc.Arbitrary<unknown> {
  const headerName = fc.oneof(
    fc.stringMatching(/^X-[A-Za-z0-9-]{1,12}$/),
    fc.string({ maxLength: 12 }),
    fc.constantFrom('__proto__', 'constructor', 'Content-Type', 'webhook-id', 'X-Ok'),
  );
  const headerValue = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.anything(),
  );
  const headers = fc.oneof(
    fc.dictionary(headerName, headerValue, { maxKeys: 6 }),
    fc.constant(JSON.parse('{"__proto__": "x"}') as unknown),
    fc.anything({ maxDepth: 1 }),
  );
  const url = fc.oneof(fc.webUrl({ withQueryParameters: true }), fc.string({ maxLength: 40 }), fc.anything());
  const text = fc.oneof(fc.string({ maxLength: 40 }), fc.anything({ maxDepth: 0 }));
  return fc.oneof(
    fc.constant(undefined),
    fc.anything({ maxDepth: 1 }),
    fc.record(
      {
        headers,
        url,
        secret: text,
        endpointId: text,
        ownerId: text,
        broadcast: fc.oneof(fc.boolean(), fc.anything({ maxDepth: 0 })),
        idempotencyKey: text,
        orderingKey: text,
      },
      { requiredKeys: [] },
    ),
  );
}
