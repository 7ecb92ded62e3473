import type { OutgoingWebhook } from '../publishing/webhook.types.js';
import type { TransportSendContext, WebhookTransport } from '../transports/webhook-transport.interface.js';

/** A webhook as the recording transport received it, with its data parsed back from the sent JSON. */
export interface RecordedWebhook extends OutgoingWebhook {
  data: unknown;
  /** Which attempt delivered it (1 unless failures were scripted). */
  attempt: number;
}

type Waiter = { match: (w: RecordedWebhook) => boolean; resolve: (w: RecordedWebhook) => void };

/**
 * A transport that sends nothing and remembers everything, for your own tests:
 *
 *   const webhooks = app.get(RecordingTransport);
 *   await request(app.getHttpServer()).post('/todos').send({ title: 'x' });
 *   expect((await webhooks.waitFor('todo.created')).data).toMatchObject({ title: 'x' });
 */
export class RecordingTransport implements WebhookTransport {
  readonly name = 'recording';
  /** Every webhook received, in order. */
  readonly sent: RecordedWebhook[] = [];
  private waiters: Waiter[] = [];
  private failures: Array<unknown> = [];

  async send(message: OutgoingWebhook, context: TransportSendContext): Promise<void> {
    if (this.failures.length > 0) throw this.failures.shift();
    const recorded: RecordedWebhook = { ...message, data: JSON.parse(message.payload), attempt: context.attempt };
    this.sent.push(recorded);
    this.waiters = this.waiters.filter((waiter) => (waiter.match(recorded) ? (waiter.resolve(recorded), false) : true));
  }

  /** Webhooks of one event type. */
  ofType(eventType: string): RecordedWebhook[] {
    return this.sent.filter((w) => w.eventType === eventType);
  }

  /** Makes the next `times` sends fail with `error` (the pipeline retries unless `error.retryable === false`). */
  failNext(error: unknown = new Error('RecordingTransport: scripted failure'), times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push(error);
  }

  /** Resolves with the first webhook (already received or yet to come) of this type that matches. */
  waitFor(
    eventType: string,
    predicate: (w: RecordedWebhook) => boolean = () => true,
    timeoutMs = 5_000,
  ): Promise<RecordedWebhook> {
    const match = (w: RecordedWebhook): boolean => w.eventType === eventType && predicate(w);
    const found = this.sent.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const seen = this.sent.map((w) => w.eventType).join(', ') || 'none';
        reject(new Error(`No ${eventType} webhook within ${timeoutMs} ms (received: ${seen})`));
      }, timeoutMs);
      const waiter: Waiter = { match, resolve: (w) => (clearTimeout(timer), resolve(w)) };
      this.waiters.push(waiter);
    });
  }

  /** Forgets what was received and any scripted failures. */
  clear(): void {
    this.sent.length = 0;
    this.failures = [];
  }
}
