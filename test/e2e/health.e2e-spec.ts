import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { request } from 'undici';
import { ConvoyHttpError, WebhookPublisher } from '../../lib/index.js';
import { WebhooksHealthIndicator } from '../../lib/terminus/index.js';
import { ConvoyTestingModule, RecordingTransport } from '../../lib/testing/index.js';

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly webhooks: WebhooksHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.webhooks.isHealthy('webhooks', { maxLagMs: 200, maxDeadLetters: 0 })]);
  }
}

@Module({ imports: [TerminusModule], controllers: [HealthController], providers: [WebhooksHealthIndicator] })
class HealthModule {}

/** The @nestjs/terminus indicator (nestjs-convoy/terminus), in a real app answering real requests. */
describe('WebhooksHealthIndicator', () => {
  let app: INestApplication;
  let url: string;
  afterEach(() => app.close());

  async function health() {
    const response = await request(`${url}/health`);
    return {
      status: response.statusCode,
      body: (await response.body.json()) as {
        status: string;
        info?: Record<string, unknown>;
        error?: Record<string, { status: string; message?: string; pending?: number }>;
      },
    };
  }

  it('is up while events flow, and down with the stats when they pile up', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConvoyTestingModule.forRoot({ delivery: { retry: { delayMs: 60_000, maxDelayMs: 60_000 } } }),
        HealthModule,
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();

    const up = await health();
    expect(up.status).toBe(200);
    expect(up.body.info?.webhooks).toMatchObject({ status: 'up', pending: 0, lagMs: 0, durable: false });

    // The transport fails once; the retry waits a minute, so the event grows older than the 200 ms allowed.
    app.get(RecordingTransport).failNext(new Error('Convoy is down'));
    await app.get(WebhookPublisher).publish('todo.created', { id: 1 });
    await new Promise((r) => setTimeout(r, 400));
    const down = await health();
    expect(down.status).toBe(503);
    expect(down.body.error?.webhooks).toMatchObject({ status: 'down', pending: 1 });
    expect(down.body.error?.webhooks?.message).toMatch(/the oldest pending event is \d+ ms old \(limit 200 ms\)/);
  });

  it('is down when dead letters exceed the limit', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ConvoyTestingModule.forRoot(), HealthModule],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
    expect((await health()).status).toBe(200);

    // Refused by the transport (a 400 is not retried): the event becomes a dead letter at once.
    app
      .get(RecordingTransport)
      .failNext(new ConvoyHttpError({ method: 'POST', path: '/events' }, 400, 'endpoint not found', undefined));
    await app.get(WebhookPublisher).publish('todo.created', { id: 1 }, { endpointId: 'gone' });
    await app.get(WebhookPublisher).flush();
    const down = await health();
    expect(down.status).toBe(503);
    expect(down.body.error?.webhooks).toMatchObject({
      status: 'down',
      deadLetters: 1,
      message: '1 dead letters (limit 0)',
    });
  });
});
