import { ConfigurableModuleBuilder, type DynamicModule } from '@nestjs/common';
import { convoyExports, convoyProviders } from './convoy.providers.js';
import type { ConvoyModuleExtras, ConvoyModuleOptions } from './options/convoy-module-options.js';

/** Injection token of the options exactly as given to forRoot or returned by the forRootAsync factory. */
export const CONVOY_MODULE_OPTIONS = Symbol.for('nestjs-convoy:module-options');

export const { ConfigurableModuleClass, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<ConvoyModuleOptions>({
    moduleName: 'Convoy',
    optionsInjectionToken: CONVOY_MODULE_OPTIONS,
  })
    .setClassMethodName('forRoot')
    .setFactoryMethodName('createConvoyOptions')
    .setExtras<ConvoyModuleExtras>({ isGlobal: true }, (definition, extras): DynamicModule => ({
      ...definition,
      global: extras.isGlobal !== false,
      providers: [...(definition.providers ?? []), ...convoyProviders(CONVOY_MODULE_OPTIONS)],
      exports: [...(definition.exports ?? []), ...convoyExports()],
    }))
    .build();
