import { Module, type DynamicModule } from '@nestjs/common';
import { ConvoyModule } from '../convoy.module.js';
import type { ConvoyModuleExtras, ConvoyModuleOptions } from '../options/convoy-module-options.js';
import { otherBuildAliases, shareInjectables } from '../utils/both-builds.js';
import { RecordingTransport } from './recording.transport.js';

shareInjectables([RecordingTransport]);

/**
 * ConvoyModule wired to a RecordingTransport, for tests: no network, no credentials.
 * Inject `RecordingTransport` to assert what was published.
 */
@Module({})
export class ConvoyTestingModule {
  static forRoot(options: Omit<ConvoyModuleOptions, 'transport'> & ConvoyModuleExtras = {}): DynamicModule {
    const recorder = new RecordingTransport();
    const aliases = otherBuildAliases([RecordingTransport]);
    return {
      module: ConvoyTestingModule,
      global: true,
      // Retries come quickly in tests (with storage or without); everything else is as configured.
      imports: [
        ConvoyModule.forRoot({
          ...options,
          delivery: { ...options.delivery, retry: { delayMs: 10, maxDelayMs: 50, ...options.delivery?.retry } },
          transport: recorder,
        }),
      ],
      providers: [{ provide: RecordingTransport, useValue: recorder }, ...aliases],
      exports: [RecordingTransport, ...aliases.map((alias) => alias.provide)],
    };
  }
}
