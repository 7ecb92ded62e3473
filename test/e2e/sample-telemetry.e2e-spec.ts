import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { request } from 'undici';
import { startTelemetry, type SampleTelemetry } from '../../sample/telemetry.js';
import { clearSampleEnv, startSample } from '../support/sample-app.js';

/**
 * The sample's OpenTelemetry: nothing without OTEL_TRACES_EXPORTER=console; with it, the SDK for Node prints the spans
 * of `POST /todos` down to the delivery, and the demo receiver shows the `traceparent` it got: the delivery's span.
 */
async function call(url: string, method: 'GET' | 'POST', path: string, body?: unknown) {
  const response = await request(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.statusCode, body: (await response.body.json()) as any };
}

interface PrintedSpan {
  name: string;
  traceId: string;
  id: string;
  parentSpanContext?: { spanId: string };
}

describe('sample telemetry', () => {
  let telemetry: SampleTelemetry | undefined;
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    await telemetry?.shutdown();
    app = telemetry = undefined;
    jest.restoreAllMocks();
    clearSampleEnv();
  });

  it('without OTEL_TRACES_EXPORTER=console it registers nothing', async () => {
    telemetry = await startTelemetry({});
    expect(telemetry).toBeUndefined();
    expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
  });

  it('with it, the spans of POST /todos are printed down to the delivery, whose traceparent the receiver shows', async () => {
    const printed: PrintedSpan[] = [];
    jest.spyOn(console, 'dir').mockImplementation((item: unknown) => void printed.push(item as PrintedSpan));
    telemetry = await startTelemetry({ OTEL_TRACES_EXPORTER: 'console' });
    expect(telemetry).toBeDefined();
    const started = await startSample({});
    app = started.app;
    const endpoint = await call(started.url, 'POST', '/endpoints', {
      name: 'demo',
      url: `${started.url}/receiver`,
      secret: 'demo-receiver-secret',
    });
    expect(endpoint.status).toBe(201);
    expect((await call(started.url, 'POST', '/todos', { item: 'trace me' })).status).toBe(201);
    const [webhook] = (await call(started.url, 'GET', '/receiver?wait=1')).body as Array<{ traceparent: string }>;

    const [, traceId, spanId] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(webhook!.traceparent) ?? [];
    const deliver = printed.find((s) => s.name === 'deliver todo.created');
    const publish = printed.find((s) => s.name === 'publish todo.created');
    expect({ traceId: deliver?.traceId, spanId: deliver?.id }).toEqual({ traceId, spanId });
    expect(publish?.traceId).toBe(traceId);
    const claim = printed.find((s) => s.name === 'claim todo.created');
    expect(claim?.parentSpanContext?.spanId).toBe(publish?.id);
    expect(deliver?.parentSpanContext?.spanId).toBe(claim?.id);
  });
});
