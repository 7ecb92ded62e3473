import { getEventListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { RETRY_DEFAULTS } from '../../../lib/options/option-tables.js';
import { backoffDelay, parseRetryAfter, retryDelay, sleep, type BackoffPolicy } from '../../../lib/utils/backoff.js';
import { matchesEventPattern } from '../../../lib/utils/glob.js';
import { uuidv7 } from '../../../lib/utils/uuid.js';
import { PACKAGE_VERSION } from '../../../lib/version.js';

describe('backoffDelay', () => {
  const policy = (overrides: Partial<BackoffPolicy> = {}): BackoffPolicy => ({
    baseDelayMs: 100,
    maxDelayMs: 10_000,
    jitter: 'none',
    ...overrides,
  });

  it("grows by the factor (2 by default) without jitter ('none')", () => {
    expect([1, 2, 3, 4].map((retry) => backoffDelay(retry, policy()))).toEqual([100, 200, 400, 800]);
    expect([1, 2, 3].map((retry) => backoffDelay(retry, policy({ factor: 3 })))).toEqual([100, 300, 900]);
    expect([1, 2, 3].map((retry) => backoffDelay(retry, policy({ factor: 1 })))).toEqual([100, 100, 100]);
  });

  it('treats retry 0 (or less) like the first retry', () => {
    expect(backoffDelay(0, policy())).toBe(100);
    expect(backoffDelay(-5, policy())).toBe(100);
  });

  it('never exceeds maxDelayMs, however many retries', () => {
    expect(backoffDelay(3, policy({ maxDelayMs: 300 }))).toBe(300);
    expect(backoffDelay(50, policy({ maxDelayMs: 300 }))).toBe(300);
    // Even where base * factor^n overflows to Infinity.
    expect(backoffDelay(5_000, policy({ maxDelayMs: 300 }))).toBe(300);
    // With jitter the cap applies to the whole delay too.
    expect(backoffDelay(50, policy({ maxDelayMs: 300, jitter: 'full' }), () => 0.999999)).toBe(300);
    expect(backoffDelay(50, policy({ maxDelayMs: 300, jitter: 'equal' }), () => 0.999999)).toBe(300);
  });

  it("'full' jitter spreads the delay over [0, ceiling] with the injected random", () => {
    const full = policy({ jitter: 'full' });
    expect(backoffDelay(3, full, () => 0)).toBe(0);
    expect(backoffDelay(3, full, () => 0.25)).toBe(100);
    expect(backoffDelay(3, full, () => 0.5)).toBe(200);
    expect(backoffDelay(3, full, () => 0.999999)).toBe(400);
  });

  it("'equal' jitter spreads the delay over [ceiling/2, ceiling], and is the default", () => {
    const equal = policy({ jitter: 'equal' });
    expect(backoffDelay(3, equal, () => 0)).toBe(200);
    expect(backoffDelay(3, equal, () => 0.5)).toBe(300);
    expect(backoffDelay(3, equal, () => 0.999999)).toBe(400);
    const unspecified: BackoffPolicy = { baseDelayMs: 100, maxDelayMs: 10_000 };
    expect(backoffDelay(3, unspecified, () => 0)).toBe(200);
    expect(backoffDelay(3, unspecified, () => 0.5)).toBe(300);
  });

  it('uses Math.random by default, staying within the jitter range', () => {
    const delays = Array.from({ length: 200 }, () => backoffDelay(2, { baseDelayMs: 100, maxDelayMs: 1_000 }));
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(100);
      expect(delay).toBeLessThanOrEqual(200);
    }
    expect(new Set(delays).size).toBeGreaterThan(1); // really random, not a constant
  });
});

describe('retryDelay', () => {
  const { endpoint: linear, handOver: exponential } = RETRY_DEFAULTS;

  it("waits the linear policy's fixed delay after every failure", () => {
    expect([1, 2, 9].map((failed) => retryDelay(linear, failed))).toEqual([100_000, 100_000, 100_000]);
  });

  it('grows the exponential policy from delayMs up to maxDelayMs, with equal jitter', () => {
    const top = () => 1; // the jitter's upper end: the whole computed delay
    expect([1, 2, 3, 20].map((failed) => retryDelay(exponential, failed, undefined, top))).toEqual([
      1_000, 2_000, 4_000, 300_000,
    ]);
    expect(retryDelay(exponential, 3, undefined, () => 0)).toBe(2_000); // the lower end: half of it
  });

  it('waits as long as a longer Retry-After asks, capped at maxRetryAfterMs; a shorter one does not shorten it', () => {
    expect(retryDelay(linear, 1, 200_000)).toBe(200_000);
    expect(retryDelay(linear, 1, 10 * 3_600_000)).toBe(3_600_000);
    expect(retryDelay(linear, 1, 5_000)).toBe(100_000);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-06-01T12:00:00.000Z');

  it('reads delta seconds as milliseconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 3 ', now)).toBe(3_000);
  });

  it('reads an HTTP date as the time left until then, and 0 for a date already past', () => {
    expect(parseRetryAfter('Sun, 01 Jun 2025 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 01 Jun 2025 11:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', now)).toBe(0);
  });

  it.each(['1.5', '-3', 'soon', '', '   ', '+5'])('returns undefined for the malformed %j', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });

  it('uses the first value of a repeated header', () => {
    expect(parseRetryAfter(['5', '10'], now)).toBe(5_000);
    expect(parseRetryAfter(['Sun, 01 Jun 2025 12:01:00 GMT'], now)).toBe(60_000);
    expect(parseRetryAfter([], now)).toBeUndefined();
  });

  it('returns undefined when the header is absent', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('measures from Date.now() by default', () => {
    const inAMinute = new Date(Date.now() + 60_000).toUTCString();
    const ms = parseRetryAfter(inAMinute)!;
    // toUTCString drops the milliseconds, and time passes: somewhere within the minute, not 0.
    expect(ms).toBeGreaterThan(50_000);
    expect(ms).toBeLessThanOrEqual(60_000);
  });
});

describe('sleep', () => {
  it('resolves after the delay', async () => {
    const started = Date.now();
    await expect(sleep(50)).resolves.toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
  });

  it('rejects with the abort reason as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const reason = new Error('shutting down');
    // An hour-long sleep: the test finishing at all shows the abort cut it short.
    const sleeping = sleep(3_600_000, controller.signal);
    controller.abort(reason);
    await expect(sleeping).rejects.toBe(reason);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const reason = new Error('already gone');
    await expect(sleep(3_600_000, AbortSignal.abort(reason))).rejects.toBe(reason);
  });

  it('stops listening to the signal once settled', async () => {
    // A long-lived signal (e.g. one per application) must not collect a listener per sleep.
    const controller = new AbortController();
    const sleeping = sleep(1, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    await sleeping;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);

    const aborted = new AbortController();
    const cut = sleep(3_600_000, aborted.signal);
    aborted.abort(new Error('stop'));
    await expect(cut).rejects.toThrow('stop');
    expect(getEventListeners(aborted.signal, 'abort')).toHaveLength(0);
  });
});

describe('matchesEventPattern', () => {
  it.each([
    ['todo.*', 'todo.created', true],
    ['todo.*', 'todo.item.created', false],
    ['todo.*', 'todo', false],
    ['todo.**', 'todo.created', true],
    ['todo.**', 'todo.item.created', true],
    ['todo.**', 'todo', true],
    ['todo.**', 'todos.created', false],
    ['**', 'todo', true],
    ['**', 'todo.created', true],
    ['**', 'a.b.c.d', true],
    ['*.created', 'todo.created', true],
    ['*.created', 'invoice.created', true],
    ['*.created', 'todo.updated', false],
    ['*.created', 'todo.item.created', false],
    ['todo.**.created', 'todo.created', true],
    ['todo.**.created', 'todo.a.b.created', true],
    ['todo.**.created', 'todo.a.b.updated', false],
    ['todo.created', 'todo.created', true],
    ['todo.created', 'todo.updated', false],
    ['todo.created', 'todo.created.v2', false],
    ['todo', 'todo.created', false],
    ['todo', 'todo', true],
    ['*', 'todo', true],
    ['*', 'todo.created', false],
  ])('%s vs %s: %s', (pattern, name, expected) => {
    expect(matchesEventPattern(pattern, name)).toBe(expected);
  });
});

describe('uuidv7', () => {
  const FORMAT = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const timeOf = (id: string): number => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

  it('has the UUID layout with version 7 and the RFC 4122 variant', () => {
    for (let i = 0; i < 100; i++) expect(uuidv7()).toMatch(FORMAT);
  });

  it('starts with the 48-bit Unix time in milliseconds', () => {
    expect(uuidv7(0x0123456789ab).startsWith('01234567-89ab-7')).toBe(true);
    expect(uuidv7(0).startsWith('00000000-0000-7')).toBe(true);
    const now = Date.parse('2025-06-01T12:00:00.123Z');
    expect(timeOf(uuidv7(now))).toBe(now);
    expect(uuidv7(now)).toMatch(FORMAT);
  });

  it('uses the current time by default', () => {
    const before = Date.now();
    const id = uuidv7();
    const after = Date.now();
    expect(timeOf(id)).toBeGreaterThanOrEqual(before);
    expect(timeOf(id)).toBeLessThanOrEqual(after);
  });

  it('sorts by creation time', () => {
    const times = [
      1,
      2,
      255,
      256,
      1_000,
      65_536,
      Date.parse('2001-01-01'),
      Date.parse('2025-06-01'),
      Date.parse('2100-01-01'),
    ];
    const ids = times.map((t) => uuidv7(t));
    expect([...ids].sort()).toEqual(ids);
  });

  it('ids made one after another sort in the order they were made, many within one millisecond', () => {
    const ids = Array.from({ length: 20_000 }, () => uuidv7());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(20_000);
    // Some milliseconds held many ids: the order within a millisecond is what the counter keeps.
    const perMs = new Map<string, number>();
    for (const id of ids) perMs.set(id.slice(0, 13), (perMs.get(id.slice(0, 13)) ?? 0) + 1);
    expect(Math.max(...perMs.values())).toBeGreaterThan(1);
  });

  it('gives 1000 distinct ids, even within one millisecond', () => {
    const now = Date.now();
    const ids = new Set(Array.from({ length: 1_000 }, () => uuidv7(now)));
    expect(ids.size).toBe(1_000);
  });
});

describe('PACKAGE_VERSION', () => {
  it("equals package.json's version", () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(PACKAGE_VERSION).toBe(pkg.version);
    expect(PACKAGE_VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });
});
