import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PATIENCE_MS } from './wait.js';

export interface ReceivedWebhook {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body exactly as received. */
  raw: Buffer;
  json: unknown;
  /** When the whole request had arrived (epoch ms), before any scripted delay. */
  at: number;
  /** 0 for the first request this receiver got. */
  index: number;
  /** When the response was finished (epoch ms); undefined while it is pending, or if it never is (hang). */
  answeredAt?: number;
}

/** How to answer one request; anything left out falls back to `status`, a JSON content type and `{"ok":true}`. */
export interface ReceiverResponse {
  status?: number;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Never answer (the client's timeout must fire); the connection is dropped when the receiver closes. */
  hang?: boolean;
}

export type Responder = (
  request: ReceivedWebhook,
) => ReceiverResponse | undefined | Promise<ReceiverResponse | undefined>;

/** A webhook receiver on 127.0.0.1:<random port> that records every request and answers 200 (or what you set). */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** The status to answer with; change it to simulate a failing receiver. */
  status = 200;
  /** Per-request behaviour (status, headers, body, delay, hang); undefined or an undefined answer means the default. */
  respond: Responder | undefined;
  /** Requests being handled right now (arrived, not yet answered). */
  active = 0;
  /** The most requests ever handled at the same time. */
  maxActive = 0;
  /** TCP connections accepted: 0 proves nothing reached the receiver at all. */
  connections = 0;
  private server!: Server;

  static async start(respond?: Responder): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    receiver.respond = respond;
    receiver.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on(
        'end',
        () => void receiver.handle(req.method ?? '', req.url ?? '', req.headers, Buffer.concat(chunks), res),
      );
    });
    receiver.server.on('connection', () => receiver.connections++);
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  private async handle(
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    raw: Buffer,
    res: ServerResponse,
  ): Promise<void> {
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      json = undefined;
    }
    const request: ReceivedWebhook = { method, path, headers, raw, json, at: Date.now(), index: this.received.length };
    this.received.push(request);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    let answer: ReceiverResponse | undefined;
    try {
      answer = await this.respond?.(request);
    } catch {
      answer = { status: 500, body: 'respond() threw' };
    }
    if (answer?.hang) {
      // Counted as active until the client gives up and closes the connection.
      res.on('close', () => this.active--);
      return;
    }
    if (answer?.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
    this.active--;
    if (res.destroyed) return;
    res.writeHead(answer?.status ?? this.status, { 'content-type': 'application/json', ...answer?.headers });
    res.end(answer?.body ?? '{"ok":true}', () => (request.answeredAt = Date.now()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Resolves with the first request (already received or yet to come) that matches. */
  async waitFor(match: (w: ReceivedWebhook) => boolean, timeoutMs = PATIENCE_MS): Promise<ReceivedWebhook> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(match);
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(
          `WebhookReceiver: nothing matching within ${timeoutMs} ms (got ${this.received.length} requests)`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Resolves once at least `count` requests (matching `match`, if given) have arrived; returns them in order. */
  async waitForCount(
    count: number,
    match: (w: ReceivedWebhook) => boolean = () => true,
    timeoutMs = PATIENCE_MS,
  ): Promise<ReceivedWebhook[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.filter(match);
      if (found.length >= count) return found;
      if (Date.now() > deadline)
        throw new Error(
          `WebhookReceiver: ${found.length} of ${count} matching requests within ${timeoutMs} ms (got ${this.received.length} in all)`,
        );
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
