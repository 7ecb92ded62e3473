import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

// The sample is for development; /admin (the dashboard) has no guard, which only development and test allow.
process.env.NODE_ENV ??= 'development';
// rawBody: the demo receiver verifies signatures over the exact bytes it received.
const app = await NestFactory.create(AppModule, { rawBody: true });
// Lets ConvoyModule send what is still buffered when the process gets SIGTERM/SIGINT.
app.enableShutdownHooks();
const port = Number(process.env.PORT ?? 3000);
await app.listen(port);
Logger.log(`Todo API listening on http://localhost:${port}`, 'Sample');
