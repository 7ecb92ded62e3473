import { jest } from '@jest/globals';
import { WebhookValidationError } from '../../../lib/errors/index.js';
import { handOverRoute } from '../../../lib/pipeline/hand-over.route.js';
import { InMemoryWebhookStore } from '../../../lib/storage/in-memory.store.js';
import { DeliveryPipeline } from '../../../lib/pipeline/pipeline.js';
import { WebhookPublisher } from '../../../lib/publishing/webhook-publisher.js';
import type { PublishOptions, PublishReceipt } from '../../../lib/publishing/webhook.types.js';
import { RecordingTransport, type RecordedWebhook } from '../../../lib/testing/index.js';
import { pipelineSettings } from '../../support/pipeline-settings.js';

/**
 * publish() validates and serializes up front: bad input throws WebhookValidationError naming the field and
 * queues nothing; good input is sent as exactly the bytes JSON.stringify would produce.
 */
describe('WebhookPublisher.publish() validation', () => {
  const settings = pipelineSettings({
    concurrency: 4,
    endpointConcurrency: 4,
    drainTimeoutMs: 5_000,
    retry: { attempts: 3, strategy: 'exponential', delayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 1_000 },
  });
  const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  let transport: RecordingTransport;
  let dispatcher: DeliveryPipeline;
  let publisher: WebhookPublisher;

  beforeEach(() => {
    transport = new RecordingTransport();
    dispatcher = new DeliveryPipeline(
      new InMemoryWebhookStore({ capacity: 100, whenFull: 'reject' }),
      handOverRoute(transport),
      settings,
    );
    dispatcher.start();
    publisher = new WebhookPublisher(dispatcher, { broadcast: true });
  });
  afterEach(async () => {
    await dispatcher.close();
  });

  // Deliberately bad input: the public signature would not let these compile.
  const publishAny = (eventType: unknown, data: unknown, options?: unknown): Promise<PublishReceipt> =>
    publisher.publish(eventType as string, data, options as PublishOptions);

  /** Asserts the refusal names `field`, explains itself, and that nothing reached the buffer or the transport. */
  async function expectRefused(
    call: () => Promise<unknown>,
    field: string,
    reason: RegExp,
  ): Promise<WebhookValidationError> {
    await publisher.flush();
    const sentBefore = transport.sent.length;
    const statsBefore = await dispatcher.stats();
    let error: unknown;
    try {
      await call();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WebhookValidationError);
    const refusal = error as WebhookValidationError;
    expect(refusal.field).toBe(field);
    expect(refusal.reason).toMatch(reason);
    expect(refusal.message).toBe(`Cannot publish webhook: ${field} ${refusal.reason}`);
    await publisher.flush();
    expect(transport.sent).toHaveLength(sentBefore);
    expect(await dispatcher.stats()).toEqual(statsBefore);
    expect(statsBefore).toMatchObject({ pending: 0, inFlight: 0, failed: 0 });
    return refusal;
  }

  /** Publishes, waits for the send, and returns the receipt with what the transport received. */
  async function publishAndRecord(
    eventType: string,
    data: unknown,
    options?: PublishOptions,
  ): Promise<{ receipt: PublishReceipt; recorded: RecordedWebhook }> {
    const receipt = await publisher.publish(eventType, data, options);
    await publisher.flush();
    expect(transport.sent).toHaveLength(1);
    const recorded = transport.sent[0]!;
    // The receipt and the sent message describe the same event.
    expect(recorded).toMatchObject({
      id: receipt.id,
      idempotencyKey: receipt.idempotencyKey,
      eventType: receipt.eventType,
      target: receipt.target,
    });
    return { receipt, recorded };
  }

  describe('event type', () => {
    it.each([
      ['a number', 42, /non-empty string such as "todo.created", got a number/],
      ['null', null, /got null/],
      ['an object', { type: 'todo.created' }, /got an object/],
      ['an empty string', '', /got an empty string/],
      ['white space only', '   ', /printable characters without spaces/],
    ])('refuses %s', async (_label, eventType, reason) => {
      await expectRefused(() => publishAny(eventType, {}), 'eventType', reason);
    });

    it('accepts 255 characters and refuses 256', async () => {
      const longest = 'e'.repeat(255);
      const { receipt } = await publishAndRecord(longest, {});
      expect(receipt.eventType).toBe(longest);
      await expectRefused(() => publishAny('e'.repeat(256), {}), 'eventType', /256 characters long; at most 255/);
    });

    it.each([
      ['a line feed', 'todo\ncreated'],
      ['a NUL', 'todo.\u0000created'],
      ['a tab', 'todo\tcreated'],
      ['DEL', 'todo.created\u007f'],
    ])('refuses control characters (%s)', async (_label, eventType) => {
      await expectRefused(() => publishAny(eventType, {}), 'eventType', /without spaces, control, bidi/);
    });

    it.each([' todo.created', 'todo.created ', '\ttodo.created'])(
      'refuses surrounding white space (%j)',
      async (eventType) => {
        await expectRefused(() => publishAny(eventType, {}), 'eventType', /printable characters without spaces/);
      },
    );
  });

  describe('data refused', () => {
    it('refuses a top-level undefined', async () => {
      await expectRefused(() => publishAny('todo.created', undefined), 'data', /is undefined; pass a JSON value/);
    });

    it('refuses a direct circular reference, naming the property', async () => {
      const todo: Record<string, unknown> = { title: 'x' };
      todo.self = todo;
      await expectRefused(() => publishAny('todo.created', todo), 'data.self', /circular/);
    });

    it('refuses a circular reference nested deep, naming its path', async () => {
      const root: { a: { b?: unknown; ok: number } } = { a: { ok: 1 } };
      root.a.b = root;
      await expectRefused(() => publishAny('todo.created', root), 'data.a.b', /refers back to one of its own parents/);

      const parent = { id: 2, children: [] as unknown[] };
      parent.children.push(parent);
      const list = { items: [{ id: 1 }, parent] };
      await expectRefused(() => publishAny('todo.created', list), 'data.items[1].children[0]', /circular/);
    });

    it('does not mistake a shared (non-circular) object for a cycle when locating another problem', async () => {
      // The path search must only treat ancestors as cycles, not siblings that share an object.
      const shared = { id: 1 };
      await expectRefused(
        () => publishAny('todo.created', { first: shared, second: shared, total: 10n }),
        'data.total',
        /BigInt/,
      );
    });

    it('refuses a BigInt, naming its path through arrays', async () => {
      const order = { items: [{ total: 1 }, { total: 2 }, { total: 3n }] };
      const error = await expectRefused(() => publishAny('order.placed', order), 'data.items[2].total', /is a BigInt/);
      expect(error.message).toContain('data.items[2].total');
      await expectRefused(() => publishAny('order.placed', 5n), 'data', /BigInt/);
    });

    it.each([
      ['a function', { onDone: () => 1 }, 'data.onDone', /is a function/],
      ['a top-level function', () => 1, 'data', /is a function/],
      ['a symbol', { tag: Symbol('t') }, 'data.tag', /is a symbol/],
      ['NaN', { score: NaN }, 'data.score', /is NaN, which JSON would turn into null/],
      ['Infinity', { ratio: Infinity }, 'data.ratio', /is Infinity/],
      ['-Infinity in an array', { values: [1, -Infinity] }, 'data.values[1]', /is -Infinity/],
      ['a Map', { byId: new Map([['a', 1]]) }, 'data.byId', /is a Map.*Object\.fromEntries/],
      ['a Set', { tags: new Set(['a']) }, 'data.tags', /is a Set.*Array\.from/],
      ['a top-level Map', new Map(), 'data', /is a Map/],
    ])('refuses %s', async (_label, data, field, reason) => {
      await expectRefused(() => publishAny('todo.created', data), field, reason);
    });

    it('refuses a value whose toJSON() throws, quoting its error', async () => {
      const data = {
        when: {
          toJSON: () => {
            throw new Error('clock is broken');
          },
        },
      };
      await expectRefused(
        () => publishAny('todo.created', data),
        'data.when',
        /has a toJSON\(\) that threw: clock is broken/,
      );
    });

    it('refuses undefined inside an array, which JSON would silently turn into null', async () => {
      await expectRefused(
        () => publishAny('todo.created', { tags: ['a', undefined] }),
        'data.tags[1]',
        /undefined inside an array.*null/,
      );
    });

    it('refuses an object whose property getter throws, quoting its error', async () => {
      const data = {
        order: Object.defineProperty({}, 'total', {
          enumerable: true,
          get: () => {
            throw new Error('not loaded');
          },
        }),
      };
      await expectRefused(() => publishAny('todo.created', data), 'data.order', /property getter threw: not loaded/);
    });

    // Plain data is checked by a quick walk; anything else takes the exact path. Both must refuse the same things.
    it("refuses what a class instance's toJSON() turns into NaN", async () => {
      class Money {
        toJSON() {
          return NaN;
        }
      }
      await expectRefused(() => publishAny('invoice.paid', { total: new Money() }), 'data.total', /is NaN/);
    });

    it('refuses a Map held by a class instance', async () => {
      class Cart {
        items = new Map([['sku', 1]]);
      }
      await expectRefused(() => publishAny('cart.updated', { cart: new Cart() }), 'data.cart.items', /is a Map/);
    });

    it('refuses NaN nested deeper than the quick walk goes', async () => {
      const deep: Record<string, unknown> = {};
      let level = deep;
      for (let i = 0; i < 100; i++) level = (level.next = {}) as Record<string, unknown>;
      level.score = NaN;
      await expectRefused(() => publishAny('todo.created', deep), `data${'.next'.repeat(100)}.score`, /is NaN/);
    });

    it('passes the property key to toJSON, as JSON.stringify does', async () => {
      const keys: string[] = [];
      const data = { stamp: { toJSON: (key: string) => (keys.push(key), 1n) } };
      await expectRefused(() => publishAny('todo.created', data), 'data.stamp', /BigInt/);
      expect(keys).toEqual(['stamp', 'stamp']);
    });
  });

  describe('data accepted', () => {
    // Each payload must equal JSON.stringify's output byte for byte, and be compact.
    it.each([
      ['null', null, 'null'],
      ['a string', 'hello', '"hello"'],
      ['an empty string', '', '""'],
      ['a number', -1.5, '-1.5'],
      ['zero', 0, '0'],
      ['true', true, 'true'],
      ['false', false, 'false'],
      ['an array', [1, 'a', null, [], {}], '[1,"a",null,[],{}]'],
      ['a nested object', { a: { b: { c: [1, { d: true }] } }, e: 'x' }, '{"a":{"b":{"c":[1,{"d":true}]}},"e":"x"}'],
      ['a Date (through its toJSON)', new Date('2024-05-01T12:00:00.000Z'), '"2024-05-01T12:00:00.000Z"'],
      ['a nested Date', { dueAt: new Date(Date.UTC(2030, 0, 2, 3, 4, 5)) }, '{"dueAt":"2030-01-02T03:04:05.000Z"}'],
      ['an undefined property (dropped, like JSON)', { a: 1, b: undefined, c: null }, '{"a":1,"c":null}'],
      [
        'a shared object referenced twice',
        (() => {
          const s = { id: 1 };
          return { x: s, y: s };
        })(),
        '{"x":{"id":1},"y":{"id":1}}',
      ],
      [
        'a class instance (its own fields)',
        new (class Point {
          x = 1;
          y = 2;
        })(),
        '{"x":1,"y":2}',
      ],
      ['an object without a prototype', Object.assign(Object.create(null), { a: 1 }), '{"a":1}'],
      [
        'data nested 100 levels deep',
        JSON.parse(`${'{"n":'.repeat(100)}1${'}'.repeat(100)}`),
        `${'{"n":'.repeat(100)}1${'}'.repeat(100)}`,
      ],
    ])('accepts %s', async (_label, data, expected) => {
      const { recorded } = await publishAndRecord('todo.created', data);
      expect(recorded.payload).toBe(expected);
      expect(recorded.payload).toBe(JSON.stringify(data));
    });

    it('keeps unicode and </script> byte-identical to JSON.stringify (no HTML escaping)', async () => {
      const data = {
        text: 'héllo wörld 😀 中文 </script><b>&amp;</b> "quoted" \\ \u2028',
        nested: { ключ: 'значение' },
      };
      const { recorded } = await publishAndRecord('note.created', data);
      expect(recorded.payload).toBe(JSON.stringify(data));
      expect(recorded.payload).toContain('</script><b>&amp;</b>');
      expect(recorded.payload).toContain('😀 中文');
      expect(recorded.payload).not.toMatch(/\\u003c|\\u0026|\n|": /);
      expect(Buffer.from(recorded.payload, 'utf8').equals(Buffer.from(JSON.stringify(data), 'utf8'))).toBe(true);
    });

    it('serializes once: mutating the data after publish() does not change what is sent, even on a retry', async () => {
      // The first attempt fails, so the send that succeeds happens after the mutation below.
      transport.failNext(new Error('temporarily unavailable'));
      const toJSON = jest.fn(() => 'snapshot');
      const data = { title: 'before', tags: ['a'], extra: { toJSON } };
      const receipt = await publisher.publish('todo.created', data);
      data.title = 'after';
      data.tags.push('b');
      await publisher.flush();
      expect(transport.sent).toHaveLength(1);
      expect(transport.sent[0]).toMatchObject({ id: receipt.id, attempt: 2 });
      expect(transport.sent[0]!.payload).toBe('{"title":"before","tags":["a"],"extra":"snapshot"}');
      expect(toJSON).toHaveBeenCalledTimes(1);
    });
  });

  describe('receipt and target', () => {
    it('gives a UUIDv7 id, uses it as the idempotency key by default, and sends to the default target', async () => {
      const { receipt, recorded } = await publishAndRecord('todo.created', { id: 1 });
      expect(receipt.id).toMatch(UUID_V7);
      expect(receipt).toEqual({
        id: receipt.id,
        idempotencyKey: receipt.id,
        eventType: 'todo.created',
        target: { broadcast: true },
      });
      expect(recorded.headers).toEqual({});
      expect(recorded.attempt).toBe(1);
    });

    it('gives each event its own id', async () => {
      const first = await publisher.publish('todo.created', 1);
      const second = await publisher.publish('todo.created', 2);
      expect(second.id).not.toBe(first.id);
      expect(second.idempotencyKey).toBe(second.id);
    });

    it("keeps the caller's idempotency key and headers", async () => {
      const { receipt, recorded } = await publishAndRecord(
        'todo.created',
        {},
        { idempotencyKey: 'todo-42-created', headers: { 'X-Tenant': 'acme', 'x-trace': '' } },
      );
      expect(receipt.idempotencyKey).toBe('todo-42-created');
      expect(receipt.id).toMatch(UUID_V7);
      expect(receipt.id).not.toBe('todo-42-created');
      expect(recorded.headers).toEqual({ 'X-Tenant': 'acme', 'x-trace': '' });
    });

    it('accepts an idempotency key of 255 characters', async () => {
      const key = 'k'.repeat(255);
      const { receipt } = await publishAndRecord('todo.created', {}, { idempotencyKey: key });
      expect(receipt.idempotencyKey).toBe(key);
    });

    it.each<[string, PublishOptions, object]>([
      ['endpointId', { endpointId: 'ep_1' }, { endpointId: 'ep_1' }],
      ['ownerId', { ownerId: 'customer-7' }, { ownerId: 'customer-7' }],
      ['broadcast', { broadcast: true }, { broadcast: true }],
      ['url', { url: 'https://example.com/hooks?x=1' }, { url: 'https://example.com/hooks?x=1' }],
      [
        'url with secret',
        { url: 'http://localhost:8080/hooks', secret: 'whsec_abc' },
        { url: 'http://localhost:8080/hooks', secret: 'whsec_abc' },
      ],
    ])('sends to the %s target', async (_label, options, target) => {
      const { receipt, recorded } = await publishAndRecord('todo.created', {}, options);
      expect(receipt.target).toEqual(target);
      expect(recorded.target).toEqual(target);
    });

    it('uses the default target when no target (or broadcast: false) is given', async () => {
      // A second publisher with a distinguishable default, on the same dispatcher.
      const toEndpoint = new WebhookPublisher(dispatcher, { endpointId: 'ep_default' });
      expect((await toEndpoint.publish('a', 1)).target).toEqual({ endpointId: 'ep_default' });
      expect((await toEndpoint.publish('b', 2, { broadcast: false, idempotencyKey: 'k' })).target).toEqual({
        endpointId: 'ep_default',
      });
      expect((await toEndpoint.publish('c', 3, { ownerId: 'o1' })).target).toEqual({ ownerId: 'o1' });
      await toEndpoint.flush();
      expect(transport.sent.map((w) => w.target)).toEqual([
        { endpointId: 'ep_default' },
        { endpointId: 'ep_default' },
        { ownerId: 'o1' },
      ]);
    });
  });

  describe('options refused', () => {
    it.each([
      ['a string', 'endpoint-1', 'options', /must be an object, got a string/],
      ['an array', [], 'options', /must be an object, got an array/],
      [
        'an unknown key',
        { priority: 'high' },
        'options.priority',
        /is not a publish option; known options are endpointId, ownerId, broadcast, url, secret, idempotencyKey, headers, orderingKey/,
      ],
      [
        'two targets',
        { endpointId: 'ep_1', ownerId: 'own_1' },
        'options',
        /more than one target \(endpointId, ownerId\); pick one/,
      ],
      [
        'url and broadcast',
        { url: 'https://example.com', broadcast: true },
        'options',
        /more than one target \(url, broadcast\)/,
      ],
      ['broadcast as a string', { broadcast: 'yes' }, 'options.broadcast', /must be true or false, got a string/],
      ['broadcast as 1', { broadcast: 1 }, 'options.broadcast', /got a number/],
      [
        'an empty endpointId',
        { endpointId: '' },
        'options.endpointId',
        /must be a non-empty string without control characters, got an empty string/,
      ],
      ['a blank ownerId', { ownerId: '   ' }, 'options.ownerId', /non-empty string/],
      ['a numeric endpointId', { endpointId: 7 }, 'options.endpointId', /got a number/],
      ['a relative url', { url: '/webhooks' }, 'options.url', /is not an absolute URL/],
      ['a url that is no URL', { url: 'example dot com' }, 'options.url', /is not an absolute URL/],
      ['an ftp: url', { url: 'ftp://example.com/hooks' }, 'options.url', /uses ftp:; only http: and https:/],
      ['an empty secret', { url: 'https://example.com', secret: '' }, 'options.secret', /8 to 256 characters/],
      [
        'a secret of 257 characters',
        { url: 'https://example.com', secret: 's'.repeat(257) },
        'options.secret',
        /8 to 256/,
      ],
      ['a secret with a space', { url: 'https://example.com', secret: 'two words' }, 'options.secret', /white space/],
      [
        'an empty idempotencyKey',
        { idempotencyKey: '' },
        'options.idempotencyKey',
        /must be a non-empty string, got an empty string/,
      ],
      ['a numeric idempotencyKey', { idempotencyKey: 42 }, 'options.idempotencyKey', /got a number/],
      [
        'an idempotencyKey of 256 characters',
        { idempotencyKey: 'k'.repeat(256) },
        'options.idempotencyKey',
        /at most 255 printable ASCII characters/,
      ],
      [
        'an idempotencyKey with a line break',
        { idempotencyKey: 'key\nInjected' },
        'options.idempotencyKey',
        /printable ASCII characters.*sent as an HTTP header/,
      ],
      [
        'a non-ASCII idempotencyKey',
        { idempotencyKey: 'clé-42' },
        'options.idempotencyKey',
        /printable ASCII characters/,
      ],
      ['an empty orderingKey', { orderingKey: '' }, 'options.orderingKey', /must be a non-empty string/],
      ['a non-ASCII orderingKey', { orderingKey: 'commande-é' }, 'options.orderingKey', /printable ASCII characters/],
      [
        'an idempotencyKey with surrounding spaces',
        { idempotencyKey: ' k ' },
        'options.idempotencyKey',
        /without surrounding spaces/,
      ],
      ['headers as an array', { headers: [['a', 'b']] }, 'options.headers', /must be an object of header names/],
      [
        'an invalid header name',
        { headers: { 'bad header': 'x' } },
        'options.headers["bad header"]',
        /is not a valid HTTP header name/,
      ],
      [
        'a header name with a colon',
        { headers: { 'X-A:': 'x' } },
        'options.headers["X-A:"]',
        /not a valid HTTP header name/,
      ],
      [
        'a value with CR/LF',
        { headers: { 'X-Note': 'a\r\nX-Injected: 1' } },
        'options.headers["X-Note"]',
        /printable ASCII characters \(no line breaks\)/,
      ],
      ['a value with LF only', { headers: { 'X-Note': 'a\nb' } }, 'options.headers["X-Note"]', /no line breaks/],
      ['a non-ASCII value', { headers: { 'X-Note': 'café' } }, 'options.headers["X-Note"]', /printable ASCII/],
      ['a non-string value', { headers: { 'X-Count': 3 } }, 'options.headers["X-Count"]', /must be a string/],
    ])('refuses %s', async (_label, options, field, reason) => {
      await expectRefused(() => publishAny('todo.created', {}, options), field, reason);
    });

    it.each([
      'content-type',
      'Content-Type',
      'CONTENT-LENGTH',
      'X-Convoy-Signature',
      'x-convoy-signature',
      'X-CONVOY-IDEMPOTENCY-KEY',
      'Host',
      'Webhook-Signature',
    ])('refuses the reserved header %s, in any case', async (name) => {
      await expectRefused(
        () => publishAny('todo.created', {}, { headers: { [name]: 'x' } }),
        `options.headers["${name}"]`,
        /is set by the delivery itself/,
      );
    });

    it('refuses a secret without url, without echoing the secret', async () => {
      const alone = await expectRefused(
        () => publishAny('todo.created', {}, { secret: 'whsec_TOPSECRET' }),
        'options.secret',
        /is only used with url/,
      );
      const withEndpoint = await expectRefused(
        () => publishAny('todo.created', {}, { endpointId: 'ep_1', secret: 'whsec_TOPSECRET' }),
        'options.secret',
        /only used with url/,
      );
      for (const error of [alone, withEndpoint]) expect(error.message).not.toContain('TOPSECRET');
    });

    it('refuses a url with credentials, without echoing them', async () => {
      const error = await expectRefused(
        () => publishAny('todo.created', {}, { url: 'https://user:hunter2@example.com/hooks' }),
        'options.url',
        /contains credentials/,
      );
      expect(error.message).not.toContain('hunter2');
    });

    it('ignores an unknown key whose value is undefined (as from an optional spread)', async () => {
      const { receipt } = await publishAndRecord('todo.created', {}, {
        endpointId: 'ep_1',
        extra: undefined,
      } as PublishOptions);
      expect(receipt.target).toEqual({ endpointId: 'ep_1' });
    });
  });
});
