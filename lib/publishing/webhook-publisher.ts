import { ConvoyConfigurationError } from '../errors/configuration.error.js';
import type { SqlQueryable } from '../storage/sql/sql.js';
import { uuidv7 } from '../utils/uuid.js';
import type { DeliveryPipeline, PublisherStats } from '../pipeline/pipeline.js';
import { DEFAULT_LIMITS, type Limits } from '../options/option-tables.js';
import type { PayloadCheck } from '../catalog/payload-validation.js';
import type { EventPayloadOf, EventTypeOf, WebhookEventCatalog } from '../catalog/webhook-events.js';
import type { Span } from '../telemetry/otel-api.js';
import { WebhookTelemetry } from '../telemetry/webhook-telemetry.js';
import { serializeData, validateEventType, validatePublishOptions } from './validate-webhook.js';
import type { OutgoingWebhook, PublishOptions, PublishReceipt, WebhookTarget } from './webhook.types.js';

/**
 * Publishes domain events as webhooks. Injectable anywhere ConvoyModule is imported.
 *
 *   await publisher.publish('invoice.paid', invoice, { ownerId: invoice.customerId });
 *
 * publish() validates and serializes at once (bad input throws WebhookValidationError and queues nothing),
 * then resolves as soon as the event is accepted: stored in the durable outbox when storage is configured,
 * buffered in memory otherwise. Sending happens in the background, with retries.
 *
 * Typed by an event catalog (`constructor(private readonly publisher: WebhookPublisher<typeof todoEvents>)`), an
 * unknown event type or a wrong payload is a compile error; with the catalog registered (`events`), also a
 * WebhookValidationError at run time.
 */
export class WebhookPublisher<Catalog extends WebhookEventCatalog = WebhookEventCatalog> {
  constructor(
    private readonly pipeline: DeliveryPipeline,
    private readonly defaultTarget: WebhookTarget,
    private readonly limits: Readonly<Limits> = DEFAULT_LIMITS,
    private readonly checkPayload?: PayloadCheck,
    private readonly telemetry: WebhookTelemetry = WebhookTelemetry.off,
    /** The transport's refusal of `{ url }` targets it would never deliver to (e.g. the SSRF guard's). */
    private readonly checkTargetUrl?: (url: string) => void,
  ) {}

  publish<Type extends EventTypeOf<Catalog>>(
    eventType: Type,
    data: EventPayloadOf<Catalog, Type>,
    options?: PublishOptions,
  ): Promise<PublishReceipt> {
    return this.accept(eventType, data, options, undefined);
  }

  /**
   * Publishes inside your open database transaction, so that the event exists if and only if your change commits:
   * `tx` is a pg client after BEGIN, a PGlite transaction, or anything with `query(text, params) → { rows }` on that
   * connection. Resolves once the event is written in the transaction; it is sent after the commit.
   * Needs durable storage (PostgreSQL or PGlite); throws TransactionRequiredError when `tx` is not in a transaction.
   */
  async publishInTransaction<Type extends EventTypeOf<Catalog>>(
    tx: SqlQueryable,
    eventType: Type,
    data: EventPayloadOf<Catalog, Type>,
    options?: PublishOptions,
  ): Promise<PublishReceipt> {
    if (!this.pipeline.durable) {
      throw new ConvoyConfigurationError(
        'storage',
        'is not configured, so events cannot join a database transaction',
        'pass storage from nestjs-convoy/postgres or nestjs-convoy/pglite to ConvoyModule',
      );
    }
    return this.accept(eventType, data, options, tx);
  }

  /**
   * Resolves when every event published so far has been handed to the transport (or given up after its retries);
   * with the embedded engine, when the attempts due now are done (its later retries are in the delivery log).
   */
  flush(): Promise<void> {
    return this.pipeline.flush();
  }

  /** Pending, in flight, lag, sent, failed and dead letters, e.g. for a health check. */
  stats(): Promise<PublisherStats> {
    return this.pipeline.stats();
  }

  /**
   * Validates, serializes and stores one event (in `tx` when given). A synchronous schema's result is used at once:
   * no await before the enqueue, as without a catalog (an asynchronous schema is awaited). No async function on the
   * way (publish() runs per event): bad input rejects the promise returned, as it did when this was async.
   */
  private accept(
    eventType: string,
    data: unknown,
    options: PublishOptions | undefined,
    tx: SqlQueryable | undefined,
  ): Promise<PublishReceipt> {
    try {
      const type = validateEventType(eventType, this.limits.maxEventTypeLength);
      // With a registered catalog, the schema's output is sent.
      let payload: unknown = data;
      if (this.checkPayload) {
        payload = this.checkPayload(type, data);
        if (isThenable(payload))
          return Promise.resolve(payload).then((checked) => this.store(type, checked, options, tx));
      }
      return this.store(type, payload, options, tx);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Makes the message and stores it; may throw (the caller turns that into a rejection). */
  private store(
    type: string,
    payload: unknown,
    options: PublishOptions | undefined,
    tx: SqlQueryable | undefined,
  ): Promise<PublishReceipt> {
    const message = this.message(type, payload, options);
    const span = this.telemetry.startPublish(message);
    const stored =
      span !== undefined
        ? this.traced(span, message, tx)
        : tx === undefined
          ? this.pipeline.enqueue(message)
          : this.pipeline.enqueueInTransaction(message, tx);
    return stored.then(() => {
      this.telemetry.published(message);
      return receipt(message);
    });
  }

  /** The enqueue under its publish and store spans; each ends with the error, if any. */
  private async traced(publish: Span, message: OutgoingWebhook, tx: SqlQueryable | undefined): Promise<void> {
    const store = this.telemetry.startStore(publish, message, this.pipeline.durable, tx !== undefined);
    try {
      if (tx === undefined) await this.pipeline.enqueue(message);
      else await this.pipeline.enqueueInTransaction(message, tx);
    } catch (error) {
      this.telemetry.end(store, error);
      this.telemetry.end(publish, error);
      throw error;
    }
    this.telemetry.end(store);
    this.telemetry.end(publish);
  }

  /** `type` is validated by the caller. */
  private message(type: string, data: unknown, options: PublishOptions | undefined): OutgoingWebhook {
    const payload = serializeData(data, this.limits.maxPayloadBytes);
    const { target, idempotencyKey, headers, orderingKey } = validatePublishOptions(options, this.limits);
    if (target !== undefined && 'url' in target) this.checkTargetUrl?.(target.url);
    const id = uuidv7();
    return {
      id,
      eventType: type,
      payload,
      target: target ?? this.defaultTarget,
      idempotencyKey: idempotencyKey ?? id,
      headers,
      orderingKey, // always present (maybe undefined): one object shape for every message keeps the hot path fast
      createdAt: Date.now(),
      traceparent: undefined, // set by a traced publish
      tracestate: undefined,
    };
  }
}

function receipt(message: OutgoingWebhook): PublishReceipt {
  return {
    id: message.id,
    idempotencyKey: message.idempotencyKey,
    eventType: message.eventType,
    target: message.target,
  };
}

/** As `await` sees it: a schema may answer with a Promise of another realm. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
