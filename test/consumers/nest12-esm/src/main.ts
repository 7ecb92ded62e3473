import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';

// rawBody: the receiver verifies signatures over the exact bytes received (Fastify keeps them only when asked).
const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), { rawBody: true });
// Not enableShutdownHooks(): it re-raises the signal after closing, so the process would end by SIGTERM (143).
// Closing here sends what is pending, closes PGlite and the pools, and lets the process exit 0 once nothing is open.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    Logger.log(`${signal}: shutting down`, 'Main');
    app.close().catch((error: unknown) => {
      Logger.error(`Shutdown failed: ${String(error)}`, 'Main');
      process.exitCode = 1;
    });
  });
}
await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
Logger.log(`Listening on ${await app.getUrl()}`, 'Main');
