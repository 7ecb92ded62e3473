import { Injectable, Logger, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import {
  ConvoyClient,
  ConvoyConfigurationError,
  ConvoyModule,
  WebhookDeliveries,
  WebhookEndpoints,
  WEBHOOK_TRANSPORT,
  WebhookPublisher,
  type ConvoyModuleOptions,
} from '../../../lib/index.js';
import { ConvoyNotConfiguredError } from '../../../lib/client/index.js';
import { ConvoyWebhookDeliveries, ConvoyWebhookEndpoints } from '../../../lib/transports/convoy/convoy-management.js';
import { EmbeddedWebhookEndpoints } from '../../../lib/transports/embedded/embedded-management.js';
import { ConvoyTransport } from '../../../lib/transports/convoy/convoy.transport.js';
import { EmbeddedTransport } from '../../../lib/transports/embedded/embedded.transport.js';
import { LoggingTransport } from '../../../lib/transports/logging.transport.js';
import { RecordingTransport } from '../../../lib/testing/index.js';
import { FakeConvoy } from '../../support/fake-convoy.js';
import { recordingLogger, type LogLine } from '../../support/recording-logger.js';

async function boot(options: ConvoyModuleOptions) {
  return Test.createTestingModule({ imports: [ConvoyModule.forRoot(options)] }).compile();
}

async function bootError(options: unknown): Promise<ConvoyConfigurationError> {
  const error = await boot(options as ConvoyModuleOptions).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConvoyConfigurationError);
  return error as ConvoyConfigurationError;
}

describe('ConvoyModule options are validated at boot', () => {
  const valid = { apiKey: 'CO.abc.def', projectId: 'p1' };
  const convoy = (extra: object) => ({ convoy: { ...valid, ...extra } });

  it.each([
    ['an API key without a project id', { convoy: { apiKey: 'CO.abc.def' } }, 'convoy.projectId', /projectId.*missing/],
    [
      'a project id without credentials',
      { convoy: { projectId: 'p1' } },
      'convoy.apiKey',
      /apiKey.*missing although convoy.projectId is set/,
    ],
    [
      'an API key together with basic auth',
      convoy({ username: 'u', password: 'p' }),
      'convoy.apiKey',
      /together with username\/password/,
    ],
    [
      'a username without password',
      { convoy: { username: 'u', projectId: 'p1' } },
      'convoy.password',
      /password.*missing/,
    ],
    ['an empty API key', convoy({ apiKey: '' }), 'convoy.apiKey', /non-empty string, got an empty string/],
    ['a project id that is a URL', convoy({ projectId: 'https://x/projects/1' }), 'convoy.projectId', /wrong format/],
    [
      'a malformed base URL',
      convoy({ baseUrl: 'localhost:5005/api' }),
      'convoy.baseUrl',
      /not an absolute URL|only http: and https:/,
    ],
    [
      'a base URL with another scheme',
      convoy({ baseUrl: 'ftp://convoy.example/api' }),
      'convoy.baseUrl',
      /uses ftp:, only http: and https:/,
    ],
    [
      'a base URL that already has /v1',
      convoy({ baseUrl: 'http://localhost:5005/api/v1' }),
      'convoy.baseUrl',
      /drop everything from "\/v1" on, e\.g\. "http:\/\/localhost:5005\/api"/,
    ],
    [
      'a base URL with credentials',
      convoy({ baseUrl: 'https://user:pw@convoy.example/api' }),
      'convoy.baseUrl',
      /contains credentials/,
    ],
    [
      'a base URL with a query',
      convoy({ baseUrl: 'https://convoy.example/api?x=1' }),
      'convoy.baseUrl',
      /query or fragment/,
    ],
    ['an API version that is not a date', convoy({ apiVersion: '2025/11/24' }), 'convoy.apiVersion', /wrong format/],
    ['a zero timeout', convoy({ timeoutMs: 0 }), 'convoy.timeoutMs', /whole number from 1/],
    ['a timeout given as a string', convoy({ timeoutMs: '10s' }), 'convoy.timeoutMs', /got a string/],
    ['retry attempts of zero', convoy({ retry: { attempts: 0 } }), 'convoy.retry.attempts', /from 1 to 10000/],
    [
      'an unknown retry key, with a suggestion',
      convoy({ retry: { maxAttempts: 3 } }),
      'convoy.retry.maxAttempts',
      /not a known option.*did you mean "convoy.retry.attempts"/,
    ],
    [
      'a misspelt option',
      { convoy: { apikey: 'CO.x', projectId: 'p1' } },
      'convoy.apikey',
      /did you mean "convoy.apiKey"/,
    ],
    ['a client option at the top level', { apiKey: 'CO.x' }, 'apiKey', /Fix: move it into convoy: \{ apiKey \}/],
    ['the former dispatcher group', { dispatcher: { concurrency: 2 } }, 'dispatcher', /Fix: use delivery: \{…\}/],
    ['an unknown transport', { transport: 'kafka' }, 'transport', /"kafka"/],
    [
      'an unknown embedded option',
      { embedded: { allowPrivateNetwork: true } },
      'embedded.allowPrivateNetwork',
      /did you mean "embedded.allowPrivateNetworks"/,
    ],
    [
      'a retry strategy of another kind',
      { delivery: { retry: { strategy: 'fibonacci' } } },
      'delivery.retry.strategy',
      /"exponential" or "linear", got "fibonacci"/,
    ],
    ['a delivery concurrency of zero', { delivery: { concurrency: 0 } }, 'delivery.concurrency', /from 1/],
    ['the convoy transport without credentials', { transport: 'convoy' }, 'transport', /needs Convoy credentials/],
    [
      'a default target naming two targets',
      { defaultTarget: { endpointId: 'e', ownerId: 'o' } },
      'defaultTarget',
      /more than one target/,
    ],
    ['an empty default target', { defaultTarget: {} }, 'defaultTarget', /names no target/],
    ['an unknown buffer policy', { delivery: { whenFull: 'drop' } }, 'delivery.whenFull', /"wait" or "reject"/],
    [
      'an exponential retry whose longest delay is below its first',
      { delivery: { retry: { strategy: 'exponential', delayMs: 1000, maxDelayMs: 10 } } },
      'delivery.retry.maxDelayMs',
      /\(10\) is below delayMs \(1000\)/,
    ],
    ['forward that is not an array', { forward: 'todo.*' }, 'forward', /expected an array/],
    ['a forward rule without a pattern', { forward: [{ eventType: 'x' }] }, 'forward[0]', /"event" pattern/],
  ])('refuses %s', async (_name, options, option, message) => {
    const error = await bootError(options);
    expect(error.option).toBe(option);
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/Fix: ./);
  });

  it('never puts a credential value in the error, even when it is malformed', async () => {
    for (const options of [
      { apiKey: 'Bearer CO.leaked-key-value', projectId: 'p1' },
      { apiKey: 'CO.leaked-key-value\n', projectId: 'p1' },
      { username: 'leaked-user:x', password: 'leaked-password', projectId: 'p1' },
      { apiKey: 'CO.x', projectId: 'p1', baseUrl: 'https://convoy.example/api?token=leaked-token' },
    ]) {
      const error = await bootError({ convoy: options });
      expect(error.message).not.toMatch(/leaked/);
    }
  });

  it('also fails NestFactory-style startup (abortOnError: false) with the same error', async () => {
    const { NestFactory } = await import('@nestjs/core');
    @Module({ imports: [ConvoyModule.forRoot({ convoy: { apiKey: 'CO.x' } })] })
    class BadApp {}
    await expect(NestFactory.create(BadApp, { abortOnError: false, logger: false })).rejects.toThrow(
      /Invalid ConvoyModule option "convoy.projectId"/,
    );
  });
});

describe('ConvoyModule.forRootAsync', () => {
  let fake: FakeConvoy;
  beforeAll(async () => (fake = await FakeConvoy.start()));
  afterAll(() => fake.close());

  const configModule = () =>
    ConfigModule.forRoot({
      ignoreEnvFile: true,
      load: [() => ({ CONVOY_API_KEY: fake.apiKey, CONVOY_PROJECT_ID: fake.projectId, CONVOY_URL: fake.url })],
    });

  async function expectWorkingClient(client: ConvoyClient): Promise<void> {
    expect(client.configured).toBe(true);
    expect(client.projectId).toBe(fake.projectId);
    const before = fake.requests.length;
    await client.endpoints.list();
    expect(fake.requests[before]!.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
  }

  it('useFactory with ConfigService', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        configModule(),
        ConvoyModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            convoy: {
              apiKey: config.getOrThrow<string>('CONVOY_API_KEY'),
              projectId: config.getOrThrow<string>('CONVOY_PROJECT_ID'),
              baseUrl: config.getOrThrow<string>('CONVOY_URL'),
            },
          }),
        }),
      ],
    }).compile();
    await expectWorkingClient(moduleRef.get(ConvoyClient));
    expect(moduleRef.get(WEBHOOK_TRANSPORT)).toBeInstanceOf(ConvoyTransport);
    await moduleRef.close();
  });

  it('useClass and useExisting', async () => {
    @Injectable()
    class ConvoyConfig {
      constructor(private readonly config: ConfigService) {}
      createConvoyOptions(): ConvoyModuleOptions {
        return {
          convoy: {
            apiKey: this.config.get('CONVOY_API_KEY'),
            projectId: this.config.get('CONVOY_PROJECT_ID'),
            baseUrl: this.config.get('CONVOY_URL'),
          },
        };
      }
    }
    const viaClass = await Test.createTestingModule({
      imports: [configModule(), ConvoyModule.forRootAsync({ imports: [ConfigModule], useClass: ConvoyConfig })],
    }).compile();
    await expectWorkingClient(viaClass.get(ConvoyClient));
    await viaClass.close();

    @Module({ imports: [ConfigModule], providers: [ConvoyConfig], exports: [ConvoyConfig] })
    class ConvoyConfigModule {}
    const viaExisting = await Test.createTestingModule({
      imports: [
        configModule(),
        ConvoyModule.forRootAsync({ imports: [ConvoyConfigModule], useExisting: ConvoyConfig }),
      ],
    }).compile();
    await expectWorkingClient(viaExisting.get(ConvoyClient));
    await viaExisting.close();
  });

  it('an async factory returning bad options stops startup', async () => {
    const error = await Test.createTestingModule({
      imports: [
        ConvoyModule.forRootAsync({
          useFactory: async () => ({ convoy: { apiKey: 'CO.x', projectId: 'p1', baseUrl: 'not a url' } }),
        }),
      ],
    })
      .compile()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConvoyConfigurationError);
    expect((error as ConvoyConfigurationError).option).toBe('convoy.baseUrl');
  });
});

describe('ConvoyModule wiring', () => {
  async function bootWithLogs(options: ConvoyModuleOptions, lines: LogLine[]) {
    // The testing module installs its own logger at compile(); give it ours.
    return Test.createTestingModule({ imports: [ConvoyModule.forRoot(options)] })
      .setLogger(recordingLogger(lines))
      .compile();
  }

  it('without credentials: delivers with the embedded engine, says so once, and the client refuses calls', async () => {
    const lines: LogLine[] = [];
    try {
      const moduleRef = await bootWithLogs({}, lines);
      expect(moduleRef.get(WEBHOOK_TRANSPORT)).toBeInstanceOf(EmbeddedTransport);
      expect(moduleRef.get(WebhookEndpoints)).toBeInstanceOf(EmbeddedWebhookEndpoints);
      expect(
        lines.filter(
          (l) =>
            l.level === 'log' &&
            /No Convoy credentials are configured: webhooks are signed and delivered by the embedded engine/.test(
              l.message,
            ),
        ),
      ).toHaveLength(1);
      // The in-memory store is the default: the warning says what that costs.
      expect(
        lines
          .filter((l) => l.level === 'warn' && /in memory: they are lost when the process exits/.test(l.message))
          .map((l) => l.context),
      ).toEqual(['ConvoyModule']);
      const client = moduleRef.get(ConvoyClient);
      expect(client.configured).toBe(false);
      await expect(client.endpoints.list()).rejects.toBeInstanceOf(ConvoyNotConfiguredError);
      await moduleRef.close();
    } finally {
      Logger.overrideLogger(false);
    }
  });

  it('forRoot() with no options at all: the embedded engine', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ConvoyModule.forRoot()] }).compile();
    expect(moduleRef.get(WEBHOOK_TRANSPORT)).toBeInstanceOf(EmbeddedTransport);
    await moduleRef.close();
  });

  it("transport 'log' logs events instead of sending, warns, and offers no endpoint management", async () => {
    const lines: LogLine[] = [];
    try {
      const moduleRef = await bootWithLogs({ transport: 'log' }, lines);
      expect(moduleRef.get(WEBHOOK_TRANSPORT)).toBeInstanceOf(LoggingTransport);
      expect(lines.filter((l) => l.level === 'warn' && /only logged, not delivered/.test(l.message))).toHaveLength(1);
      await expect(moduleRef.get(WebhookEndpoints).list()).rejects.toThrow(
        /needs the "convoy" or the "embedded" transport/,
      );
      await moduleRef.close();
    } finally {
      Logger.overrideLogger(false);
    }
  });

  it('refuses the in-memory store under NODE_ENV=production unless allowInMemoryStorage is set', async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      const error = await bootError({});
      expect(error.option).toBe('embedded.store');
      expect(error.message).toMatch(
        /in-memory store while NODE_ENV=production.*lose every endpoint and pending delivery/,
      );
      const allowed = await boot({ embedded: { allowInMemoryStorage: true } });
      expect(allowed.get(WEBHOOK_TRANSPORT)).toBeInstanceOf(EmbeddedTransport);
      await allowed.close();
    } finally {
      process.env.NODE_ENV = previous;
    }
  });

  it('with credentials: the Convoy transport and Convoy-backed management', async () => {
    const moduleRef = await boot({ convoy: { apiKey: 'CO.x', projectId: 'p1', baseUrl: 'http://127.0.0.1:9/api' } });
    expect(moduleRef.get(WEBHOOK_TRANSPORT)).toBeInstanceOf(ConvoyTransport);
    expect(moduleRef.get(WebhookEndpoints)).toBeInstanceOf(ConvoyWebhookEndpoints);
    expect(moduleRef.get(WebhookDeliveries)).toBeInstanceOf(ConvoyWebhookDeliveries);
    await moduleRef.close();
  });

  it('uses a transport instance as given, and is global by default', async () => {
    const recorder = new RecordingTransport();
    @Injectable()
    class Feature {
      constructor(readonly publisher: WebhookPublisher) {}
    }
    @Module({ providers: [Feature], exports: [Feature] })
    class FeatureModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [ConvoyModule.forRoot({ transport: recorder }), FeatureModule],
    }).compile();
    await moduleRef.get(Feature).publisher.publish('x.happened', { n: 1 });
    expect((await recorder.waitFor('x.happened')).data).toEqual({ n: 1 });
    await moduleRef.close();
  });

  it('isGlobal: false keeps the providers to modules that import it', async () => {
    @Injectable()
    class Feature {
      constructor(readonly publisher: WebhookPublisher) {}
    }
    @Module({ providers: [Feature] })
    class FeatureModule {}
    const error = await Test.createTestingModule({
      imports: [ConvoyModule.forRoot({ transport: 'log', isGlobal: false }), FeatureModule],
    })
      .compile()
      .catch((e: unknown) => e);
    expect(String(error)).toMatch(/can't resolve dependencies of the Feature/);
  });

  it('closes: drains the dispatcher, then the transport, then the client', async () => {
    const order: string[] = [];
    const recorder = new (class extends RecordingTransport {
      async close(): Promise<void> {
        order.push('transport closed');
      }
    })();
    const moduleRef = await boot({ transport: recorder });
    const client = moduleRef.get(ConvoyClient);
    const originalClose = client.close.bind(client);
    client.close = async () => (order.push('client closed'), originalClose());
    await moduleRef.get(WebhookPublisher).publish('a.b', 1);
    await moduleRef.close();
    expect(recorder.ofType('a.b')).toHaveLength(1);
    expect(order).toEqual(['transport closed', 'client closed']);
  });
});
