import 'reflect-metadata';
import { startTelemetry } from './telemetry.js';

// OpenTelemetry first (OTEL_TRACES_EXPORTER=console; nothing otherwise): the HTTP instrumentation must be in place
// before the app's modules load, so they are imported after it.
const telemetry = await startTelemetry(process.env);
const { Logger } = await import('@nestjs/common');
const { NestFactory } = await import('@nestjs/core');
const { AppModule } = await import('./app.module.js');

// The sample is for development; /admin (the dashboard) has no guard, which only development and test allow.
process.env.NODE_ENV ??= 'development';
// rawBody: the demo receiver verifies signatures over the exact bytes it received.
const app = await NestFactory.create(AppModule, { rawBody: true });
// Lets ConvoyModule send what is still buffered when the process gets SIGTERM/SIGINT.
app.enableShutdownHooks();
if (telemetry) process.once('beforeExit', () => void telemetry.shutdown());
const port = Number(process.env.PORT ?? 3000);
await app.listen(port);
Logger.log(
  `Todo API listening on http://localhost:${port}${telemetry ? ' (OpenTelemetry: spans printed to the console)' : ''}`,
  'Sample',
);
