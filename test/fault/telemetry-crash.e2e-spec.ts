import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Logger, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConvoyModule, type ConvoyModuleOptions } from '../../lib/index.js';
import { PGliteStorage } from '../../lib/storage/pglite/index.js';
import { FakeConvoy } from '../support/fake-convoy.js';
import { LOOPBACK } from '../support/embedded-app.js';
import { InMemoryOtel, linkedTo, parentOf, spanId, traceId } from '../support/otel.js';
import { waitUntil } from '../support/wait.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * The trace survives a crash: a process publishes one traced event and is killed with SIGKILL while the event's
 * attempt hangs; the next start (this process, its own SDK registered) takes the delivery over, and its claim and
 * attempt spans belong to the dead process's trace and link to its publish span, read from storage. The receiver (or
 * Convoy's custom headers) gets that trace in `traceparent`.
 */
describe.each(['embedded', 'convoy'] as const)('telemetry across a SIGKILL (%s)', (transport) => {
  let otel: InMemoryOtel;
  let folder: string;
  let receiver: WebhookReceiver | undefined;
  let fake: FakeConvoy | undefined;
  let restarted: INestApplicationContext | undefined;

  beforeAll(() => {
    Logger.overrideLogger(false);
    otel = InMemoryOtel.register();
  });
  afterAll(async () => {
    await otel.unregister();
    Logger.overrideLogger(['log', 'error', 'warn']);
  });
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'nc-otel-crash-'));
  });
  afterEach(async () => {
    await restarted?.close();
    await receiver?.close();
    await fake?.close();
    restarted = receiver = fake = undefined;
    await rm(folder, { recursive: true, force: true });
  });

  /** Runs the child until its event's attempt hangs at the receiver (or Convoy), kills it; returns its publish span. */
  async function publishAndKill(env: Record<string, string>, attempted: () => boolean) {
    const child = spawn(process.execPath, ['test/fault/support/traced-publisher-process.mjs'], {
      env: { ...process.env, NODE_OPTIONS: '', PGLITE_DIR: join(folder, 'db'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    let published: { traceId: string; spanId: string } | undefined;
    for await (const line of createInterface({ input: child.stdout })) {
      const [word, trace, span] = line.split(' ');
      if (word === 'published') published = { traceId: trace!, spanId: span! };
      break;
    }
    expect({ published: published !== undefined, stderr }).toEqual({ published: true, stderr: '' });
    await waitUntil('the attempt reached the receiver and hangs there', attempted);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    return published!;
  }

  async function restart(options: ConvoyModuleOptions): Promise<void> {
    const storage = await PGliteStorage.create({ dataDir: join(folder, 'db') });
    restarted = await NestFactory.createApplicationContext(ConvoyModule.forRoot({ ...options, storage }), {
      logger: false,
    });
  }

  it('the restarted process links its claim and attempt to the publish span read from storage', async () => {
    let publish: { traceId: string; spanId: string };
    let sentTraceparent: () => string | undefined;
    let attemptName: string;
    if (transport === 'embedded') {
      receiver = await WebhookReceiver.start((r) => (r.index === 0 ? { hang: true } : undefined));
      publish = await publishAndKill({ RECEIVER_URL: `${receiver.url}/hook` }, () => receiver!.received.length === 1);
      expect(receiver.received[0]!.headers.traceparent).toMatch(new RegExp(`^00-${publish.traceId}-`));
      await restart({ embedded: { allowedAddresses: LOOPBACK } });
      await waitUntil('the restarted process delivered it', () => receiver!.received.length === 2);
      sentTraceparent = () => receiver!.received[1]!.headers.traceparent as string | undefined;
      attemptName = 'deliver crash.traced';
    } else {
      fake = await FakeConvoy.start();
      const sends = () => fake!.requests.filter((r) => r.route === '/events/broadcast');
      fake.setRule((r) => (r.route === '/events/broadcast' ? { hang: true } : undefined));
      publish = await publishAndKill(
        { CONVOY_URL: fake.url, CONVOY_API_KEY: fake.apiKey, CONVOY_PROJECT_ID: fake.projectId },
        () => sends().length === 1,
      );
      fake.setRule(undefined);
      await restart({ convoy: fake.clientOptions });
      await waitUntil('the restarted process sent it to Convoy', () => fake!.events.size === 1);
      sentTraceparent = () =>
        (JSON.parse(sends().at(-1)!.rawBody) as { custom_headers?: Record<string, string> }).custom_headers
          ?.traceparent;
      attemptName = 'send crash.traced';
    }
    await waitUntil('the claim span ended', () => otel.finished().some((s) => s.name === 'claim crash.traced'));

    // Nothing of the dead process's spans is here: only what the restarted process made.
    expect(otel.finished().some((s) => s.name.startsWith('publish'))).toBe(false);
    const claim = otel.one('claim crash.traced');
    const attempt = otel.one(attemptName);
    expect(traceId(claim)).toBe(publish.traceId);
    expect(parentOf(claim)).toBe(publish.spanId);
    expect(linkedTo(claim)).toEqual([publish.spanId]);
    expect(claim.links[0]!.context.traceId).toBe(publish.traceId);
    expect(claim.attributes['webhook.attempt']).toBe(1); // the killed attempt was never settled: not counted
    expect(parentOf(attempt)).toBe(spanId(claim));
    expect(linkedTo(attempt)).toEqual([publish.spanId]);
    expect(sentTraceparent()).toBe(`00-${publish.traceId}-${spanId(attempt)}-01`);
  });
});
