// A child process for the telemetry crash test: the OpenTelemetry SDK registered (in-memory exporter), ConvoyModule
// on PGlite (PGLITE_DIR) with the embedded engine (an endpoint at RECEIVER_URL) or the Convoy transport (CONVOY_URL),
// one traced publish(), then a line `published <trace id> <span id>` naming its publish span. The test kills it with
// SIGKILL while that event's attempt hangs. It loads the built package by its name (dist/esm, which `npm test` builds
// first).
import 'reflect-metadata';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConvoyModule, WebhookEndpoints, WebhookPublisher } from 'nestjs-convoy';
import { PGliteStorage } from 'nestjs-convoy/pglite';

const { PGLITE_DIR, RECEIVER_URL, CONVOY_URL, CONVOY_API_KEY, CONVOY_PROJECT_ID } = process.env;
const spans = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));

Logger.overrideLogger(false);
const storage = await PGliteStorage.create({ dataDir: PGLITE_DIR });
const app = await NestFactory.createApplicationContext(
  ConvoyModule.forRoot({
    ...(CONVOY_URL
      ? { convoy: { apiKey: CONVOY_API_KEY, projectId: CONVOY_PROJECT_ID, baseUrl: CONVOY_URL } }
      : { embedded: { allowedAddresses: ['127.0.0.0/8'] } }),
    storage,
    delivery: { pollIntervalMs: 50, leaseMs: 1_000 }, // the shortest lease: the restart takes the attempt over soon
  }),
  { logger: false },
);
if (RECEIVER_URL)
  await app.get(WebhookEndpoints).create({ name: 'crash', url: RECEIVER_URL, secret: 'crash-secret-123' });
await app.get(WebhookPublisher).publish('crash.traced', { n: 1 });
const publish = spans.getFinishedSpans().find((s) => s.name === 'publish crash.traced');
process.stdout.write(`published ${publish.spanContext().traceId} ${publish.spanContext().spanId}\n`);
