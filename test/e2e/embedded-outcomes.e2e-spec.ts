import { PublisherClosedError } from '../../lib/index.js';
import { Harness, eventually, onlyDeliveryOf, sleep, waitForStatus, type RunningApp } from '../support/embedded-app.js';

/**
 * The embedded engine end to end, part 2: what each receiver answer leads to (retries, Retry-After, redirects,
 * 410, timeouts, exhaustion), the schedule and the per-endpoint limits, the attempt log's response capture, and
 * shutdown. Timing assertions are lower bounds only: a loaded machine can only make things later.
 */

const h = new Harness();
afterEach(() => h.cleanup());

/** Allowance for millisecond clock granularity between the worker's clock reading and the receiver's. */
const SLACK_MS = 50;

async function publishTo(app: RunningApp, endpointId: string, data: unknown = { n: 1 }) {
  const receipt = await app.publisher.publish('todo.created', data, { endpointId });
  return { receipt, delivery: await onlyDeliveryOf(app, receipt) };
}

describe('embedded engine: outcomes of an attempt', () => {
  it('500 then 200: two attempts, Success with num_trials 2, both in the log, the same idempotency key each time', async () => {
    const receiver = await h.receiver((r) => (r.index === 0 ? { status: 500, body: 'boom' } : undefined));
    const app = await h.embedded({ retry: { strategy: 'linear', delayMs: 0, attempts: 3 } });
    const endpoint = await app.endpoints.create({ name: 'flaky', url: `${receiver.url}/hook` });
    const { receipt, delivery } = await publishTo(app, endpoint.uid);

    const done = await waitForStatus(app.deliveries, delivery.uid, 'Success');
    expect(done.metadata).toMatchObject({ num_trials: 2, retry_limit: 3, strategy: 'linear' });
    const attempts = await app.deliveries.attempts(delivery.uid);
    expect(attempts.map((a) => [a.http_status, a.succeeded, a.response_data])).toEqual([
      ['500 Internal Server Error', false, 'boom'],
      ['200 OK', true, '{"ok":true}'],
    ]);
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received.map((r) => r.headers['x-convoy-idempotency-key'])).toEqual([
      receipt.idempotencyKey,
      receipt.idempotencyKey,
    ]);
    expect(receiver.received[1]!.raw.equals(receiver.received[0]!.raw)).toBe(true);
  });

  it.each([429, 503])(
    '%i with Retry-After: 1 pauses the endpoint: the retry and its other deliveries come at least 1 s later',
    async (status) => {
      let app!: RunningApp;
      let endpointId = '';
      let second: Awaited<ReturnType<typeof publishTo>> | undefined;
      const receiver = await h.receiver(async (r) => {
        if (r.index !== 0) return undefined;
        // While the first attempt is still unanswered, another event for the endpoint is stored; with one attempt
        // at a time per endpoint it is still pending when the Retry-After arrives, so it has to wait as well.
        second = await publishTo(app, endpointId, { n: 2 });
        return { status, headers: { 'Retry-After': '1' } };
      });
      app = await h.embedded({ endpointConcurrency: 1, retry: { strategy: 'linear', delayMs: 0, attempts: 3 } });
      endpointId = (await app.endpoints.create({ name: 'busy', url: `${receiver.url}/hook` })).uid;
      const first = await publishTo(app, endpointId);

      await waitForStatus(app.deliveries, first.delivery.uid, 'Success');
      await waitForStatus(app.deliveries, second!.delivery.uid, 'Success');
      const [refused, ...rest] = receiver.received;
      const retry = rest.find((r) => r.headers['x-convoy-idempotency-key'] === first.receipt.idempotencyKey)!;
      const other = rest.find((r) => r.headers['x-convoy-idempotency-key'] === second!.receipt.idempotencyKey)!;
      expect(receiver.received).toHaveLength(3);
      expect(retry.at - refused!.at).toBeGreaterThanOrEqual(1_000 - SLACK_MS);
      expect(other.at - refused!.at).toBeGreaterThanOrEqual(1_000 - SLACK_MS);
      const attempts = await app.deliveries.attempts(first.delivery.uid);
      expect(attempts[0]).toMatchObject({
        succeeded: false,
        response_http_header: expect.objectContaining({ 'retry-after': '1' }),
      });
      expect(attempts[0]!.http_status).toMatch(new RegExp(`^${status} `));
    },
  );

  it('a 302 is not followed (the other path is never requested) and counts as a failed attempt', async () => {
    const receiver = await h.receiver((r) =>
      r.path === '/hook' && r.index === 0 ? { status: 302, headers: { Location: '/elsewhere' } } : undefined,
    );
    const app = await h.embedded({ retry: { strategy: 'linear', delayMs: 0, attempts: 2 } });
    const endpoint = await app.endpoints.create({ name: 'moved', url: `${receiver.url}/hook` });
    const { delivery } = await publishTo(app, endpoint.uid);

    const done = await waitForStatus(app.deliveries, delivery.uid, 'Success');
    expect(done.metadata.num_trials).toBe(2);
    const attempts = await app.deliveries.attempts(delivery.uid);
    expect(attempts[0]).toMatchObject({ http_status: '302 Found', succeeded: false });
    expect(attempts[0]!.error).toMatch(/redirect.*not followed/);
    expect(receiver.received.map((r) => r.path)).toEqual(['/hook', '/hook']);
  });

  it('410 Gone: Failure at once, the endpoint becomes inactive, later events are Discarded until activate()', async () => {
    let gone = true;
    const receiver = await h.receiver(() => (gone ? { status: 410 } : undefined));
    const app = await h.embedded({ retry: { strategy: 'linear', delayMs: 0, attempts: 5 } });
    const endpoint = await app.endpoints.create({ name: 'gone', url: `${receiver.url}/hook` });
    const { delivery } = await publishTo(app, endpoint.uid);

    const failed = await waitForStatus(app.deliveries, delivery.uid, 'Failure');
    expect(failed.metadata.num_trials).toBe(1); // no retry despite retry_count 5
    expect(failed.description).toMatch(/410/);
    await eventually(
      () => app.endpoints.get(endpoint.uid),
      (e) => e.status === 'inactive',
      'the endpoint to be disabled',
    );

    const later = await publishTo(app, endpoint.uid, { n: 2 });
    expect(later.delivery.status).toBe('Discarded');
    expect(receiver.received).toHaveLength(1);

    gone = false;
    expect((await app.endpoints.activate(endpoint.uid)).status).toBe('active');
    const after = await publishTo(app, endpoint.uid, { n: 3 });
    await waitForStatus(app.deliveries, after.delivery.uid, 'Success');
    expect(receiver.received).toHaveLength(2);
    expect((await app.deliveries.get(later.delivery.uid)).status).toBe('Discarded');
  });

  it('a receiver that does not answer within http_timeout: the attempt fails as a timeout and is retried', async () => {
    const receiver = await h.receiver((r) => (r.index === 0 ? { hang: true } : undefined));
    const app = await h.embedded({ retry: { strategy: 'linear', delayMs: 0, attempts: 3 } });
    const endpoint = await app.endpoints.create({ name: 'slow', url: `${receiver.url}/hook`, http_timeout: 1 });
    const { delivery } = await publishTo(app, endpoint.uid);

    const done = await waitForStatus(app.deliveries, delivery.uid, 'Success');
    expect(done.metadata.num_trials).toBe(2);
    const [timedOut, ok] = await app.deliveries.attempts(delivery.uid);
    expect(timedOut).toMatchObject({ http_status: '', succeeded: false });
    expect(timedOut!.error).toMatch(/timed out after 1 s/);
    expect(ok).toMatchObject({ http_status: '200 OK', succeeded: true });
    expect(receiver.received[1]!.at - receiver.received[0]!.at).toBeGreaterThanOrEqual(1_000 - SLACK_MS);
  });

  it('retries exhausted: Failure after retry_count attempts; the endpoint stays active by default', async () => {
    const receiver = await h.receiver(() => ({ status: 500 }));
    const app = await h.embedded({ retry: { strategy: 'linear', delayMs: 0, attempts: 3 } });
    const endpoint = await app.endpoints.create({ name: 'down', url: `${receiver.url}/hook` });
    const { delivery } = await publishTo(app, endpoint.uid);

    const failed = await waitForStatus(app.deliveries, delivery.uid, 'Failure');
    expect(failed.metadata.num_trials).toBe(3);
    expect(failed.description).toMatch(/no success after 3 attempts/);
    expect(await app.deliveries.attempts(delivery.uid)).toHaveLength(3);
    expect(receiver.received).toHaveLength(3);
    expect((await app.endpoints.get(endpoint.uid)).status).toBe('active');
  });

  it('retries exhausted with disableEndpointOnFailure: the endpoint is disabled and its next events Discarded', async () => {
    const receiver = await h.receiver(() => ({ status: 500 }));
    const app = await h.embedded({
      disableEndpointOnFailure: true,
      retry: { strategy: 'linear', delayMs: 0, attempts: 2 },
    });
    const endpoint = await app.endpoints.create({ name: 'down', url: `${receiver.url}/hook` });
    const { delivery } = await publishTo(app, endpoint.uid);

    await waitForStatus(app.deliveries, delivery.uid, 'Failure');
    await eventually(
      () => app.endpoints.get(endpoint.uid),
      (e) => e.status === 'inactive',
      'the endpoint to be disabled',
    );
    expect((await publishTo(app, endpoint.uid, { n: 2 })).delivery.status).toBe('Discarded');
    expect(receiver.received).toHaveLength(2);
  });

  it('the exponential schedule is honoured: the waits grow (at least duration·2^(n-1)/2 with equal jitter)', async () => {
    const receiver = await h.receiver(() => ({ status: 500 }));
    const app = await h.embedded({ retry: { strategy: 'exponential', delayMs: 1000, attempts: 4 } });
    const endpoint = await app.endpoints.create({ name: 'backoff', url: `${receiver.url}/hook` });
    const { delivery } = await publishTo(app, endpoint.uid);

    const failed = await waitForStatus(app.deliveries, delivery.uid, 'Failure', 30_000);
    expect(failed.metadata).toMatchObject({ num_trials: 4, strategy: 'exponential' });
    const at = receiver.received.map((r) => r.at);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    // Waits of 1 s, 2 s, 4 s, each at least halved by jitter. The last one rules out a linear schedule of 1 s.
    expect(gaps[0]).toBeGreaterThanOrEqual(500 - SLACK_MS);
    expect(gaps[1]).toBeGreaterThanOrEqual(1_000 - SLACK_MS);
    expect(gaps[2]).toBeGreaterThanOrEqual(2_000 - SLACK_MS);
  });
});

describe('embedded engine: per-endpoint limits and the response log', () => {
  it('rate_limit 2 per 1 s spreads 4 deliveries: the 3rd and 4th go out at least 1 s after publishing', async () => {
    const receiver = await h.receiver();
    const app = await h.embedded();
    const endpoint = await app.endpoints.create({
      name: 'limited',
      url: `${receiver.url}/hook`,
      rate_limit: 2,
      rate_limit_duration: 1,
    });
    const before = Date.now();
    const receipts = await Promise.all(
      [1, 2, 3, 4].map((n) => app.publisher.publish('todo.created', { n }, { endpointId: endpoint.uid })),
    );
    for (const receipt of receipts)
      await waitForStatus(app.deliveries, (await onlyDeliveryOf(app, receipt)).uid, 'Success');

    const at = receiver.received.map((r) => r.at).sort((a, b) => a - b);
    expect(at).toHaveLength(4);
    // Without the limit all four would arrive within milliseconds of publishing.
    expect(at[2]! - before).toBeGreaterThanOrEqual(1_000 - SLACK_MS);
    expect(at[3]! - before).toBeGreaterThanOrEqual(1_000 - SLACK_MS);
  });

  it.each([
    [1, 'never sees two requests at once'],
    [4, 'does see requests in parallel (the control)'],
  ])('endpointConcurrency %i: the receiver %s', async (endpointConcurrency) => {
    const receiver = await h.receiver(() => ({ delayMs: 300 }));
    const app = await h.embedded({ endpointConcurrency });
    const endpoint = await app.endpoints.create({ name: 'serial', url: `${receiver.url}/hook` });
    const receipts = await Promise.all(
      [1, 2, 3, 4].map((n) => app.publisher.publish('todo.created', { n }, { endpointId: endpoint.uid })),
    );
    for (const receipt of receipts)
      await waitForStatus(app.deliveries, (await onlyDeliveryOf(app, receipt)).uid, 'Success');

    expect(receiver.received).toHaveLength(4);
    if (endpointConcurrency === 1) expect(receiver.maxActive).toBe(1);
    else expect(receiver.maxActive).toBeGreaterThan(1);
  });

  it('the response body kept in the log is cut at maxResponseBytes (on a character boundary)', async () => {
    const receiver = await h.receiver((r) => ({
      body: r.path === '/ascii' ? 'abcdefghijklmnopqrstuvwxyz' : 'aaaaaaaaaéééé',
      headers: { 'x-receiver': 'yes' },
    }));
    const app = await h.embedded({ maxResponseBytes: 10 });
    const ascii = await app.endpoints.create({ name: 'ascii', url: `${receiver.url}/ascii` });
    const utf8 = await app.endpoints.create({ name: 'utf8', url: `${receiver.url}/utf8` });
    const a = await publishTo(app, ascii.uid);
    const u = await publishTo(app, utf8.uid);
    await waitForStatus(app.deliveries, a.delivery.uid, 'Success');
    await waitForStatus(app.deliveries, u.delivery.uid, 'Success');

    const [asciiAttempt] = await app.deliveries.attempts(a.delivery.uid);
    expect(asciiAttempt!.response_data).toBe('abcdefghij');
    expect(asciiAttempt!.response_http_header).toMatchObject({
      'x-receiver': 'yes',
      'content-type': 'application/json',
    });
    // 9 ASCII bytes and the first byte of "é": the partial character is dropped, not turned into U+FFFD.
    expect((await app.deliveries.attempts(u.delivery.uid))[0]!.response_data).toBe('aaaaaaaaa');
  });
});

describe('embedded engine: shutdown', () => {
  it('app.close() waits for the attempts in flight: they complete and the log says Success', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // Every response is held until 500 ms after close() began, so all three are certainly in flight then.
    const receiver = await h.receiver(async () => (await gate, undefined));
    const app = await h.embedded();
    const endpoint = await app.endpoints.create({ name: 'slow', url: `${receiver.url}/hook` });
    const receipts = await Promise.all(
      [1, 2, 3].map((n) => app.publisher.publish('todo.created', { n }, { endpointId: endpoint.uid })),
    );
    const ids = await Promise.all(receipts.map(async (r) => (await onlyDeliveryOf(app, r)).uid));
    await receiver.waitForCount(3);

    const started = Date.now();
    const closing = app.close();
    setTimeout(release, 500);
    await closing;
    expect(Date.now() - started).toBeGreaterThanOrEqual(500 - SLACK_MS);
    expect(receiver.received.every((r) => r.answeredAt !== undefined)).toBe(true);
    // The in-memory log outlives the app, so it can be read after close.
    for (const id of ids) expect((await app.deliveries.get(id)).status).toBe('Success');
  });

  it('events published right before close are still delivered (the in-memory store drains what is due)', async () => {
    const receiver = await h.receiver();
    const app = await h.embedded();
    const endpoint = await app.endpoints.create({ name: 'drain', url: `${receiver.url}/hook` });
    // More than endpointConcurrency (4 by default): the fifth waits for a free slot and must still go out.
    for (const n of [1, 2, 3, 4, 5]) await app.publisher.publish('todo.created', { n }, { endpointId: endpoint.uid });
    await app.close();

    expect(receiver.received.map((r) => (r.json as { n: number }).n).sort()).toEqual([1, 2, 3, 4, 5]);
    const log = (await app.deliveries.list({ perPage: 100 })).content;
    expect(log.map((d) => d.status)).toEqual(['Success', 'Success', 'Success', 'Success', 'Success']);
  });

  it('after close nothing more is sent: a pending retry stays pending and publish() is refused', async () => {
    const receiver = await h.receiver((r) => (r.index === 0 ? { status: 500 } : undefined));
    const app = await h.embedded({ retry: { strategy: 'linear', delayMs: 2000, attempts: 3 } });
    const endpoint = await app.endpoints.create({ name: 'later', url: `${receiver.url}/hook` });
    const { delivery } = await publishTo(app, endpoint.uid);
    await waitForStatus(app.deliveries, delivery.uid, 'Retry');

    await app.close();
    await expect(app.publisher.publish('todo.created', { n: 2 }, { endpointId: endpoint.uid })).rejects.toBeInstanceOf(
      PublisherClosedError,
    );
    // A negative claim needs a wait: the retry was due 2 s after the first attempt.
    await sleep(3_000);
    expect(receiver.received).toHaveLength(1);
    expect((await app.deliveries.get(delivery.uid)).status).toBe('Retry');
    expect((await app.deliveries.list()).content).toHaveLength(1);
  });
});
