import { Body, Controller, Logger, Post, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { trace } from '@opentelemetry/api';
import { request } from 'undici';
import { ConvoyModule, EmitsWebhook, WebhookEndpoints, WebhookPublisher } from '../../lib/index.js';
import { WEBHOOK_STORE } from '../../lib/convoy.constants.js';
import type { WebhookStore } from '../../lib/storage/webhook-store.js';
import { LOOPBACK } from '../support/embedded-app.js';
import { waitUntil } from '../support/wait.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * `@opentelemetry/api` installed, no SDK registered (the default telemetry options on): a real request publishes and
 * delivers as before, nothing is stored as trace context, and the receiver gets no `traceparent`.
 */
@Controller('todos')
class TodosController {
  @Post()
  @EmitsWebhook('todo.created')
  create(@Body() body: { item: string }) {
    return { id: 1, item: body.item };
  }
}

describe('OpenTelemetry API without an SDK', () => {
  let app: INestApplication;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    receiver = await WebhookReceiver.start();
    const moduleRef = await Test.createTestingModule({
      imports: [ConvoyModule.forRoot({ embedded: { allowedAddresses: LOOPBACK } })],
      controllers: [TodosController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    await app.get(WebhookEndpoints).create({ name: 'r', url: receiver.url, secret: 'x'.repeat(16) });
  });
  afterAll(async () => {
    await app.close();
    await receiver.close();
    Logger.overrideLogger(['log', 'error', 'warn']);
  });

  it('no SDK is registered in this test (the API answers with its no-op tracer)', () => {
    expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
  });

  it('publishes and delivers; no trace context is stored or sent', async () => {
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const response = await request(`${url}/todos`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ item: 'untraced' }),
    });
    expect(response.statusCode).toBe(201);
    await response.body.dump();
    await waitUntil('the receiver got the webhook', () => receiver.received.length === 1);
    await app.get(WebhookPublisher).flush();
    expect(receiver.received[0]!.headers.traceparent).toBeUndefined();
    const store = app.get<WebhookStore>(WEBHOOK_STORE);
    const { items } = await store.listDeliveries({}, { limit: 10 });
    expect(items.map((d) => [d.status, d.traceparent ?? null])).toEqual([['Success', null]]);
  });
});
