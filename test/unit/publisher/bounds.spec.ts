import {
  ConvoyConfigurationError,
  InvalidEndpointError,
  WebhookValidationError,
  type ConvoyModuleOptions,
  type PublishOptions,
} from '../../../lib/index.js';
import { Harness, type RunningApp } from '../../support/embedded-app.js';
import { FakeConvoy } from '../../support/fake-convoy.js';

/**
 * Hardening issue, item 5: every input has a bound, refused where it enters with a typed error that names the limit
 * and the option changing it (`limits.*`), instead of being accepted and failing later, or silently changed.
 * Through real apps: the embedded engine (in memory, loopback only) and the Convoy transport (a fake Convoy).
 */
const MiB = 1024 * 1024;
const LOOPBACK_LOOKUP = async () => [{ address: '127.0.0.1', family: 4 as const }];

async function refusal<E extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  return error as E;
}

const publishAny = (app: RunningApp, eventType: unknown, data: unknown, options?: unknown) =>
  app.publisher.publish(eventType as string, data, options as PublishOptions);

describe('bounds on what publish() and endpoint requests accept', () => {
  const harness = new Harness();
  let app: RunningApp;

  beforeAll(async () => {
    app = await harness.embedded({ lookup: LOOPBACK_LOOKUP });
  });
  afterAll(() => harness.cleanup());

  async function refusedPublish(field: string, reason: RegExp, eventType: unknown, data: unknown, options?: unknown) {
    const error = await refusal(publishAny(app, eventType, data, options), WebhookValidationError);
    expect(error.field).toBe(field);
    expect(error.reason).toMatch(reason);
    return error;
  }

  describe('endpoint URLs (a 20 MB URL was accepted)', () => {
    const huge = `http://127.0.0.1:9/${'a'.repeat(20 * MiB)}`;

    it('refuses a 20 MB URL on endpoint creation and update, naming limits.maxUrlLength', async () => {
      const created = await refusal(app.endpoints.create({ name: 'big', url: huge }), InvalidEndpointError);
      expect(created.field).toBe('url');
      expect(created.message).toMatch(/is 20971539 characters long; at most 2048 .*limits\.maxUrlLength/);
      expect(created.message.length).toBeLessThan(300); // the URL itself is not quoted

      const endpoint = await app.endpoints.create({ name: 'ok', url: 'http://127.0.0.1:9/hook' });
      const updated = await refusal(app.endpoints.update(endpoint.uid, { url: huge }), InvalidEndpointError);
      expect(updated.message).toMatch(/limits\.maxUrlLength/);
      expect((await app.endpoints.get(endpoint.uid)).url).toBe('http://127.0.0.1:9/hook');
    });

    it('refuses it as a publish() url target', async () => {
      await refusedPublish('options.url', /at most 2048 .*limits\.maxUrlLength/, 'todo.created', {}, { url: huge });
    });

    it('accepts 2,048 characters and refuses 2,049', async () => {
      const base = 'http://127.0.0.1:9/';
      const at = (length: number) => base + 'p'.repeat(length - base.length);
      expect((await app.endpoints.create({ name: 'edge', url: at(2_048) })).url).toHaveLength(2_048);
      await refusal(app.endpoints.create({ name: 'over', url: at(2_049) }), InvalidEndpointError);
    });
  });

  describe('payload size (10 MB accepted, no limit option)', () => {
    it('refuses a 10 MB payload, saying the size, the limit and the option', async () => {
      const error = await refusedPublish(
        'data',
        /is 10485771 bytes as JSON; at most 1048576 are allowed \(raise limits\.maxPayloadBytes/,
        'file.uploaded',
        { blob: 'x'.repeat(10 * MiB) },
      );
      expect(error.message.length).toBeLessThan(300);
    });

    it('counts UTF-8 bytes, not characters', async () => {
      // 600,000 characters, 1.2 MB: over the limit only when counted as bytes.
      await refusedPublish('data', /limits\.maxPayloadBytes/, 'note.created', 'é'.repeat(600_000));
      await expect(app.publisher.publish('note.created', 'e'.repeat(600_000))).resolves.toBeDefined();
    });

    it('accepts a payload of exactly the limit', async () => {
      const data = 'x'.repeat(1_048_576 - 2); // the quotes make it 1,048,576 bytes
      await expect(app.publisher.publish('file.uploaded', data)).resolves.toBeDefined();
    });
  });

  describe('custom headers (a 1 MB header or 10,000 headers failed every attempt with HTTP 431)', () => {
    it('refuses a 1 MB header, naming limits.maxHeaderBytes', async () => {
      const error = await refusedPublish(
        'options.headers',
        /at most 8192 are allowed \(raise limits\.maxHeaderBytes.*HTTP 431/,
        'todo.created',
        {},
        { headers: { 'X-Big': 'a'.repeat(MiB) } },
      );
      expect(error.message.length).toBeLessThan(300);
    });

    it('refuses 10,000 headers, naming limits.maxHeaders', async () => {
      const headers = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`X-H${i}`, 'v']));
      await refusedPublish(
        'options.headers',
        /is 10000 headers; at most 32 are allowed \(raise limits\.maxHeaders/,
        'todo.created',
        {},
        { headers },
      );
    });

    it('accepts 32 headers of 8 KiB in all, and refuses one more', async () => {
      const headers = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`X-H${i}`, 'v']));
      await expect(app.publisher.publish('todo.created', {}, { headers })).resolves.toBeDefined();
      await refusedPublish(
        'options.headers',
        /maxHeaders/,
        'todo.created',
        {},
        { headers: { ...headers, 'X-H': 'v' } },
      );
      const eightKiB = { 'X-Big': 'a'.repeat(8_192 - 'X-Big'.length) };
      await expect(app.publisher.publish('todo.created', {}, { headers: eightKiB })).resolves.toBeDefined();
      await refusedPublish(
        'options.headers',
        /maxHeaderBytes/,
        'todo.created',
        {},
        { headers: { ...eightKiB, A: '' } },
      );
    });

    it('refuses __proto__ as a header name (it was accepted, then silently dropped)', async () => {
      const headers = JSON.parse('{"__proto__": "x", "X-Ok": "y"}') as Record<string, string>;
      await refusedPublish('options.headers["__proto__"]', /not a header name/, 'todo.created', {}, { headers });
    });

    it('refuses an endpoint API key header over limits.maxHeaderBytes', async () => {
      const error = await refusal(
        app.endpoints.create({
          name: 'key',
          url: 'http://127.0.0.1:9/hook',
          authentication: { type: 'api_key', api_key: { header_name: 'X-Key', header_value: 'k'.repeat(MiB) } },
        }),
        InvalidEndpointError,
      );
      expect(error.field).toBe('authentication.api_key');
      expect(error.reason).toMatch(/limits\.maxHeaderBytes/);
    });
  });

  describe('data that JSON would change is refused with its path (it was silently transformed)', () => {
    it.each([
      ['a Uint8Array', { file: { bytes: new Uint8Array([1, 2, 3]) } }, 'data.file.bytes', /Uint8Array.*base64/],
      ['a Buffer', { file: Buffer.from('hi') }, 'data.file', /Buffer.*base64/],
      ['an ArrayBuffer', [new ArrayBuffer(4)], 'data[0]', /ArrayBuffer/],
      ['a DataView', { v: new DataView(new ArrayBuffer(2)) }, 'data.v', /DataView/],
      ['a Float64Array at the top', new Float64Array([1.5]), 'data', /Float64Array/],
    ])('refuses %s', async (_what, data, field, reason) => {
      await refusedPublish(field, reason, 'file.uploaded', data);
    });

    it('refuses a symbol key, naming it', async () => {
      const data = { order: { id: 1, [Symbol('internal')]: 'x' } };
      await refusedPublish('data.order[Symbol(internal)]', /symbol key.*leaves out/, 'order.created', data);
    });

    it('refuses an array with a named property, naming it (JSON leaves it out)', async () => {
      const data = { items: Object.assign(['a', 'b'], { total: 2 }) };
      await refusedPublish('data.items.total', /named property of an array/, 'order.created', data);
    });

    it.each([
      ['a boxed symbol', Object(Symbol('s')) as object, /boxed symbol/],
      ['a boxed BigInt', Object(10n) as object, /boxed BigInt/],
    ])('refuses %s, naming its path', async (_what, value, reason) => {
      await refusedPublish('data.v', reason, 'order.created', { v: value });
    });

    it('refuses a sparse array [1,,3] with the path of its hole (it failed with ".for is not iterable")', async () => {
      // eslint-disable-next-line no-sparse-arrays -- the hole is the point
      const data = { items: [1, , 3] };
      const error = await refusedPublish('data.items[1]', /hole in a sparse array/, 'order.created', data);
      expect(error.message).not.toMatch(/iterable/);
    });

    it('refuses a hole after a toJSON and deep inside', async () => {
      const sparse: unknown[] = [];
      sparse[2] = 'c';
      const data = { a: { toJSON: () => ({ list: [{ deep: sparse }] }) } };
      await refusedPublish('data.a.list[0].deep[0]', /hole/, 'order.created', data);
    });
  });

  describe('event types (inner spaces, bidi and zero-width characters were accepted)', () => {
    it.each([
      ['an inner space', 'todo created'],
      ['a tab', 'todo\tcreated'],
      ['a no-break space', 'todo\u00a0created'],
      ['a right-to-left override', 'todo.\u202edetaerc'],
      ['a left-to-right mark', 'todo.created\u200e'],
      ['a zero-width space', 'todo.\u200bcreated'],
      ['a zero-width joiner', 'todo\u200d.created'],
      ['a byte order mark', '\ufefftodo.created'],
      ['a lone surrogate', 'todo.\ud800'],
      ['a control character', 'todo.\u0085created'],
    ])('refuses %s', async (_what, eventType) => {
      await refusedPublish(
        'eventType',
        /printable characters without spaces, control, bidi or zero-width/,
        eventType,
        {},
      );
    });

    it('accepts types in any script, with punctuation and symbols', async () => {
      for (const type of ['commande.créée', '注文.作成', 'invoice/paid:v2', 'a_b-c.d*', 'emoji.🎉'])
        await expect(app.publisher.publish(type, {})).resolves.toMatchObject({ eventType: type });
    });

    it('refuses an event type over limits.maxEventTypeLength, saying how to raise it', async () => {
      await refusedPublish(
        'eventType',
        /is 256 characters long; at most 255 are allowed \(raise limits\.maxEventTypeLength/,
        'e'.repeat(256),
        {},
      );
    });
  });
});

describe('limits are options', () => {
  const harness = new Harness();
  afterEach(() => harness.cleanup());

  it('raised limits let larger input through; lowered ones refuse it, naming the option', async () => {
    const app = await harness.embedded(
      { lookup: LOOPBACK_LOOKUP },
      {
        limits: {
          maxPayloadBytes: 12 * MiB,
          maxUrlLength: 4_096,
          maxHeaders: 2,
          maxHeaderBytes: 100,
          maxEventTypeLength: 300,
        },
      },
    );
    await expect(app.publisher.publish('big', { blob: 'x'.repeat(10 * MiB) })).resolves.toBeDefined();
    await expect(app.publisher.publish('t'.repeat(300), {})).resolves.toBeDefined();
    const url = `http://127.0.0.1:9/${'p'.repeat(3_000)}`;
    expect((await app.endpoints.create({ name: 'long', url, event_types: ['t'.repeat(300)] })).url).toBe(url);
    const headers = { A: '1', B: '2', C: '3' };
    const error = await refusal(app.publisher.publish('t', {}, { headers }), WebhookValidationError);
    expect(error.reason).toMatch(/at most 2 are allowed \(raise limits\.maxHeaders/);
    const bytes = await refusal(
      app.publisher.publish('t', {}, { headers: { A: 'a'.repeat(100) } }),
      WebhookValidationError,
    );
    expect(bytes.reason).toMatch(/at most 100 are allowed \(raise limits\.maxHeaderBytes/);
  });

  it.each([
    ['limits.maxPayloadBytes', { maxPayloadBytes: 0 }],
    ['limits.maxUrlLength', { maxUrlLength: 1e9 }],
    ['limits.maxHeaders', { maxHeaders: -1 }],
    ['limits.maxEventTypeLength', { maxEventTypeLength: 2_000 }],
    ['limits.maxHeaderBytes', { maxHeaderBytes: '8k' }],
  ])('refuses %s out of range at startup', async (option, limits) => {
    const error = await refusal(harness.start({ limits } as ConvoyModuleOptions), ConvoyConfigurationError);
    expect(error.option).toBe(option);
  });

  it('refuses a defaultTarget url longer than limits.maxUrlLength', async () => {
    const url = `https://hooks.example/${'a'.repeat(100)}`;
    const error = await refusal(
      harness.start({ defaultTarget: { url }, limits: { maxUrlLength: 64 } }),
      ConvoyConfigurationError,
    );
    expect(error.option).toBe('defaultTarget.url');
    expect(error.message).toMatch(/limits\.maxUrlLength/);
  });
});

describe('with the Convoy transport, the same bounds hold before anything is sent', () => {
  const harness = new Harness();
  let fake: FakeConvoy;
  let app: RunningApp;

  beforeAll(async () => {
    fake = await FakeConvoy.start();
    app = await harness.start({
      transport: 'convoy',
      convoy: { ...fake.clientOptions, verifyProject: false, retry: false },
      limits: { maxPayloadBytes: 1_000 },
    });
  });
  afterAll(async () => {
    await harness.cleanup();
    await fake.close();
  });

  it('refuses over-limit input at publish() and endpoint creation, sending Convoy nothing', async () => {
    const before = fake.requests.length;
    const payload = await refusal(
      app.publisher.publish('todo.created', { t: 'x'.repeat(2_000) }),
      WebhookValidationError,
    );
    expect(payload.reason).toMatch(/at most 1000 are allowed \(raise limits\.maxPayloadBytes/);
    await refusal(app.publisher.publish('todo created', {}), WebhookValidationError);
    await refusal(app.publisher.publish('todo.created', { b: Buffer.from('x') }), WebhookValidationError);
    const url = `https://hooks.example/${'a'.repeat(3_000)}`;
    await refusal(app.publisher.publish('todo.created', {}, { url }), WebhookValidationError);
    const endpoint = await refusal(app.endpoints.create({ name: 'long', url }), InvalidEndpointError);
    expect(endpoint.reason).toMatch(/limits\.maxUrlLength/);
    await app.publisher.flush();
    expect(fake.requests.length).toBe(before);

    await app.publisher.publish('todo.created', { t: 'fits' });
    await app.publisher.flush();
    expect(fake.eventRequests()).toHaveLength(1);
  });
});
