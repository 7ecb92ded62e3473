import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body exactly as received. */
  raw: Buffer;
  json: unknown;
  at: number;
}

/** A webhook receiver on 127.0.0.1:<random port> that records every request and answers 200 (or what you set). */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** The status to answer with; change it to simulate a failing receiver. */
  status = 200;
  private server!: Server;

  static async start(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    receiver.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        let json: unknown;
        try {
          json = JSON.parse(raw.toString('utf8'));
        } catch {
          json = undefined;
        }
        receiver.received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw, json, at: Date.now() });
        res.writeHead(receiver.status, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves with the first request (already received or yet to come) that matches. */
  async waitFor(match: (w: ReceivedWebhook) => boolean, timeoutMs = 60_000): Promise<ReceivedWebhook> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`WebhookReceiver: nothing matching within ${timeoutMs} ms (got ${this.received.length} requests)`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
