import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  // rawBody: the receiver verifies signatures over the exact bytes received.
  const app = await NestFactory.create(AppModule, { rawBody: true });
  // Not enableShutdownHooks(): it re-raises the signal after closing, so the process would end by SIGTERM (143).
  // Closing here sends what is pending, closes the pools, and lets the process exit 0 once nothing is left open.
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
}

bootstrap().catch((error: unknown) => {
  Logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error), 'Main');
  process.exit(1);
});
