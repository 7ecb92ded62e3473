import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { CONVOY_OPTIONS } from '../convoy.constants.js';
import { ConvoyConfigurationError } from '../errors/configuration.error.js';
import type { ForwardRule, ResolvedConvoyOptions } from '../options/convoy-module-options.js';
import { WebhookPublisher } from './webhook-publisher.js';
import { matchesEventPattern } from '../utils/glob.js';

type AnyListener = (event: string | string[], ...values: unknown[]) => unknown;
interface AnyEmitter {
  onAny(listener: AnyListener): unknown;
  offAny(listener: AnyListener): unknown;
}

/**
 * Bridges @nestjs/event-emitter to webhooks: with `forward: ['todo.*']`, `eventEmitter.emit('todo.created', todo)`
 * publishes a `todo.created` webhook carrying `todo`. Loaded only when `forward` is set, so the
 * event-emitter package stays an optional peer dependency.
 */
@Injectable()
export class WebhookEventForwarder implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('WebhookEventForwarder');
  private emitter: AnyEmitter | undefined;
  private readonly listener: AnyListener = (event, ...values) =>
    this.forward(Array.isArray(event) ? event.join('.') : String(event), values[0]);

  constructor(
    @Inject(CONVOY_OPTIONS) private readonly options: ResolvedConvoyOptions,
    private readonly moduleRef: ModuleRef,
    private readonly publisher: WebhookPublisher,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.forward.length === 0) return;
    const fix = 'install @nestjs/event-emitter and import EventEmitterModule.forRoot() in your application module';
    let EventEmitter2: unknown;
    try {
      ({ EventEmitter2 } = await import('@nestjs/event-emitter'));
    } catch {
      throw new ConvoyConfigurationError('forward', '@nestjs/event-emitter cannot be loaded', fix);
    }
    let emitter: AnyEmitter;
    try {
      emitter = this.moduleRef.get(EventEmitter2 as new () => AnyEmitter, { strict: false });
    } catch {
      throw new ConvoyConfigurationError('forward', 'no EventEmitter2 is registered in the application', fix);
    }
    emitter.onAny(this.listener);
    this.emitter = emitter;
  }

  onModuleDestroy(): void {
    this.emitter?.offAny(this.listener);
  }

  /** Returns the publish promise, so `emitAsync()` callers can wait for the webhook to be accepted. */
  private async forward(eventName: string, payload: unknown): Promise<void> {
    const rules = this.options.forward.filter((rule) => matchesEventPattern(rule.event, eventName));
    for (const rule of rules) {
      // Inside the try: a throwing eventType function must not reject into emitAsync() or, after emit(), go unhandled.
      let eventType: string | undefined;
      try {
        eventType = resolveEventType(rule, eventName);
        const data = rule.data ? rule.data(payload, eventName) : payload;
        await this.publisher.publish(eventType, data, rule.options?.(payload, eventName));
      } catch (error) {
        const as = eventType === undefined ? '' : ` as webhook ${eventType}`;
        this.logger.error(
          `Could not forward event "${eventName}"${as}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }
}

function resolveEventType(rule: ForwardRule, eventName: string): string {
  if (typeof rule.eventType === 'function') return rule.eventType(eventName);
  return rule.eventType ?? eventName;
}
