/**
 * The options model: one table per group checks, defaults and documents each option. These tests pin the
 * defaults of each path, the errors (named by full option path, secrets kept out) and the warnings for options
 * that have no effect in the chosen setup.
 */
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ConvoyConfigurationError,
  ConvoyModule,
  type ConvoyModuleOptions,
  type ConvoyStorage,
} from '../../../lib/index.js';
import { InMemoryWebhookStore } from '../../../lib/storage/index.js';
import { resolveModuleOptions } from '../../../lib/options/convoy-module-options.js';
import { resolveTable } from '../../../lib/options/option-table.js';
import { RETRY_DEFAULTS, RETRY_OPTIONS } from '../../../lib/options/option-tables.js';
import { resolveClientOptions } from '../../../lib/options/resolve-client-options.js';
import { PGliteStorage } from '../../../lib/storage/pglite/index.js';
import { RecordingTransport } from '../../../lib/testing/index.js';
import { recordingLogger, type LogLine } from '../../support/recording-logger.js';

const convoy = { apiKey: 'CO.abc.def', projectId: 'p1', baseUrl: 'http://127.0.0.1:9/api' };

function resolve(options: ConvoyModuleOptions) {
  const warnings: string[] = [];
  const resolved = resolveModuleOptions(options, (message) => warnings.push(message));
  return { resolved, warnings };
}

describe('options: one retry policy per path, named once', () => {
  let storage: ConvoyStorage;
  beforeAll(async () => (storage = await PGliteStorage.create()));
  afterAll(() => storage.close());

  it.each([
    ['Convoy, in memory', { convoy }, RETRY_DEFAULTS.handOver],
    ['Convoy, with storage', () => ({ convoy, storage }), RETRY_DEFAULTS.handOver],
    ['the log', { transport: 'log' as const }, RETRY_DEFAULTS.handOver],
    ['a custom transport', () => ({ transport: new RecordingTransport() }), RETRY_DEFAULTS.handOver],
    ['the embedded engine', {}, RETRY_DEFAULTS.endpoint],
    ['the embedded engine, with storage', () => ({ storage }), RETRY_DEFAULTS.endpoint],
  ])('%s', (_name, options, expected) => {
    const given = typeof options === 'function' ? options() : options;
    expect(resolve(given as ConvoyModuleOptions).resolved.delivery.retry).toEqual(expected);
  });

  it("today's values: hand-over 20 × exponential 1 s–5 min, endpoints Convoy's 10 × 100 s, the client 3 × 250 ms–5 s", () => {
    expect(RETRY_DEFAULTS).toEqual({
      handOver: {
        attempts: 20,
        strategy: 'exponential',
        delayMs: 1_000,
        maxDelayMs: 300_000,
        maxRetryAfterMs: 3_600_000,
      },
      endpoint: { attempts: 10, strategy: 'linear', delayMs: 100_000, maxDelayMs: 100_000, maxRetryAfterMs: 3_600_000 },
      client: { attempts: 3, strategy: 'exponential', delayMs: 250, maxDelayMs: 5_000, maxRetryAfterMs: 30_000 },
    });
    expect(resolveClientOptions(convoy).retry).toEqual(RETRY_DEFAULTS.client);
    expect(resolveClientOptions({ ...convoy, retry: false }).retry).toBe(false);
  });

  it('keys given override the path default, the others keep it', () => {
    expect(resolve({ delivery: { retry: { attempts: 4 } } }).resolved.delivery.retry).toEqual({
      ...RETRY_DEFAULTS.endpoint,
      attempts: 4,
    });
    expect(resolve({ convoy: { ...convoy, retry: { delayMs: 10 } } }).resolved.convoy.retry).toEqual({
      ...RETRY_DEFAULTS.client,
      delayMs: 10,
    });
  });

  it("other delivery defaults follow today's: concurrency 8 for hand-overs and 16 for the engine, a 15 s lease for both", () => {
    expect(resolve({ convoy, storage }).resolved.delivery).toMatchObject({ concurrency: 8, leaseMs: 15_000 });
    expect(resolve({ storage }).resolved.delivery).toMatchObject({
      concurrency: 16,
      endpointConcurrency: 4,
      leaseMs: 15_000,
    });
    expect(resolve({}).resolved.delivery).toMatchObject({
      drainTimeoutMs: 10_000,
      bufferSize: 10_000,
      whenFull: 'wait',
      batchSize: 50,
      pollIntervalMs: 1_000,
    });
  });
});

describe('options: a warning for each option or group that has no effect in the chosen setup', () => {
  let storage: ConvoyStorage;
  beforeAll(async () => (storage = await PGliteStorage.create()));
  afterAll(() => storage.close());

  /** Every group, and every option that some setup ignores, given explicitly. */
  const everything = () => ({
    convoy: { ...convoy, verifyProject: true },
    embedded: { allowPrivateNetworks: false },
    delivery: {
      retry: { attempts: 3 },
      concurrency: 2,
      endpointConcurrency: 2,
      drainTimeoutMs: 1_000,
      bufferSize: 100,
      whenFull: 'reject' as const,
      batchSize: 10,
      leaseMs: 5_000,
      pollIntervalMs: 100,
    },
  });
  const noStorage = [
    'delivery.batchSize has no effect: there is no storage',
    'delivery.leaseMs has no effect: there is no storage',
    'delivery.pollIntervalMs has no effect: there is no storage',
  ];
  const stored = [
    'delivery.bufferSize has no effect: deliveries are stored',
    'delivery.whenFull has no effect: deliveries are stored',
  ];

  it.each([
    [
      'convoy',
      {},
      [
        'embedded has no effect: the transport is convoy',
        'delivery.endpointConcurrency has no effect: the transport is convoy',
        ...noStorage,
      ],
    ],
    [
      'convoy',
      { storage: true },
      [
        'embedded has no effect: the transport is convoy',
        'delivery.endpointConcurrency has no effect: the transport is convoy',
        ...stored,
      ],
    ],
    ['embedded', {}, ['convoy.verifyProject has no effect: the transport is embedded', ...noStorage]],
    ['embedded', { storage: true }, ['convoy.verifyProject has no effect: the transport is embedded', ...stored]],
    [
      'log',
      {},
      [
        'convoy.verifyProject has no effect: the transport is log',
        'embedded has no effect: the transport is log',
        'delivery.endpointConcurrency has no effect: the transport is log',
        ...noStorage,
      ],
    ],
  ] as const)('transport %s %j', (transport, extra, expected) => {
    const options = { ...everything(), transport, ...('storage' in extra ? { storage } : {}) };
    expect(resolve(options).warnings.sort()).toEqual([...expected].sort());
  });

  it('a durable embedded.store counts as storage; an in-memory one does not', () => {
    const durableStore = storage.store;
    const delivery = { bufferSize: 10, pollIntervalMs: 100 };
    expect(resolve({ embedded: { store: durableStore }, delivery }).warnings).toEqual([
      'delivery.bufferSize has no effect: deliveries are stored',
    ]);
    const memory = new InMemoryWebhookStore({ capacity: 10, whenFull: 'reject' });
    expect(resolve({ embedded: { store: memory }, delivery }).warnings).toEqual([
      'delivery.pollIntervalMs has no effect: there is no storage',
    ]);
  });

  it('delivery.worker: false needs storage (what is published would never be sent), and is kept with it', () => {
    expect(() => resolve({ delivery: { worker: false } })).toThrow(
      '"delivery.worker": is false without storage: events published here would never be sent',
    );
    expect(() => resolve({ delivery: { worker: 'no' as unknown as boolean }, storage })).toThrow(
      '"delivery.worker": expected true or false',
    );
    expect(resolve({ delivery: { worker: false }, storage }).resolved.delivery.worker).toBe(false);
    expect(resolve({}).resolved.delivery.worker).toBe(true);
  });

  it('Convoy settings without credentials: no client, and a warning says so', () => {
    const { resolved, warnings } = resolve({ convoy: { baseUrl: 'http://127.0.0.1:9/api', timeoutMs: 500 } });
    expect(resolved.clientOptions).toBeNull();
    expect(resolved.transport).toBe('embedded');
    expect(warnings).toEqual(['convoy has no effect: no credentials are given (apiKey, or username and password)']);
  });

  it('nothing given, nothing warned; defaults are never reported', () => {
    expect(resolve({}).warnings).toEqual([]);
    expect(resolve({ convoy }).warnings).toEqual([]);
  });

  it('the module logs each warning once, as ConvoyModule, and still starts', async () => {
    const lines: LogLine[] = [];
    try {
      const moduleRef = await Test.createTestingModule({
        imports: [ConvoyModule.forRoot({ convoy, embedded: { allowPrivateNetworks: true } })],
      })
        .setLogger(recordingLogger(lines))
        .compile();
      expect(
        lines
          .filter((l) => l.level === 'warn' && l.message.includes('has no effect'))
          .map((l) => [l.message, l.context]),
      ).toEqual([['embedded has no effect: the transport is convoy', 'ConvoyModule']]);
      await moduleRef.close();
    } finally {
      Logger.overrideLogger(false);
    }
  });
});

describe('options: the table engine', () => {
  const setup = { transport: 'convoy', durable: false } as const;
  const refuse = (value: unknown): ConvoyConfigurationError => {
    try {
      resolveTable(RETRY_OPTIONS, value, 'delivery.retry', setup, () => {});
    } catch (error) {
      expect(error).toBeInstanceOf(ConvoyConfigurationError);
      return error as ConvoyConfigurationError;
    }
    throw new Error('expected a ConvoyConfigurationError');
  };

  it.each([
    [{ attemps: 3 }, 'delivery.retry.attemps', /is not a known option.*did you mean "delivery.retry.attempts"/],
    [{ baseDelayMs: 3 }, 'delivery.retry.baseDelayMs', /did you mean "delivery.retry.delayMs"/],
    [{ nonsense: 3 }, 'delivery.retry.nonsense', /known options are attempts, strategy, delayMs/],
    [{ attempts: '3' }, 'delivery.retry.attempts', /expected a whole number from 1 to 10000, got a string/],
    [{ delayMs: 1.5 }, 'delivery.retry.delayMs', /got 1\.5/],
    [{ strategy: 'fast' }, 'delivery.retry.strategy', /expected "exponential" or "linear", got "fast"/],
    ['often', 'delivery.retry', /expected an object, got a string/],
    [null, 'delivery.retry', /expected an object, got null/],
    [{ toString: 3 }, 'delivery.retry.toString', /is not a known option/],
  ])('%j is refused, naming %s', (value, option, message) => {
    const error = refuse(value);
    expect(error.option).toBe(option);
    expect(error.message).toMatch(message);
  });

  it('a secret is named, never quoted, whatever is wrong with it', () => {
    for (const apiKey of ['Bearer k3y-VALUE-x', ' k3y-VALUE-x', 'k3y\nVALUE-x']) {
      const error = (() => {
        try {
          resolveClientOptions({ ...convoy, apiKey }, 'convoy');
        } catch (e) {
          return e as ConvoyConfigurationError;
        }
        throw new Error('accepted');
      })();
      expect(error.option).toBe('convoy.apiKey');
      expect(error.message).not.toMatch(/k3y|VALUE/);
    }
  });
});

describe('options: retention', () => {
  it("defaults: Convoy's 30 days, a million finished rows per table, every minute, 500 rows per statement", () => {
    expect(resolve({}).resolved.retention).toEqual({
      maxAgeMs: 30 * 86_400_000,
      maxRows: 1_000_000,
      intervalMs: 60_000,
      batchSize: 500,
    });
    expect(resolve({ retention: false }).resolved.retention).toBe(false);
    expect(resolve({ retention: { maxRows: 10 } }).resolved.retention).toMatchObject({ maxRows: 10, batchSize: 500 });
  });

  it.each([
    [{ maxAgeMs: 10 }, 'retention.maxAgeMs'],
    [{ maxRows: 0 }, 'retention.maxRows'],
    [{ batchSize: 100_000 }, 'retention.batchSize'],
    [{ intervalMs: '1m' }, 'retention.intervalMs'],
    [{ keep: 3 }, 'retention.keep'],
  ])('refuses %j naming %s', (retention, option) => {
    expect(() => resolve({ retention } as ConvoyModuleOptions)).toThrow(
      expect.objectContaining({ name: 'ConvoyConfigurationError', option }),
    );
  });

  it('without storage it has no effect, and says so', () => {
    expect(resolve({ transport: 'embedded', retention: { maxRows: 10 } }).warnings).toEqual([
      'retention has no effect: there is no storage (the in-memory store keeps its latest 10,000 events)',
    ]);
  });
});
