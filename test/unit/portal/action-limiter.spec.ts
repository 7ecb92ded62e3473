import { ActionLimiter } from '../../../lib/portal/action-limiter.js';

describe('ActionLimiter (form posts per customer per minute)', () => {
  let now: number;
  const clock = () => now;
  beforeEach(() => (now = 1_700_000_000_000));

  it('allows perMinute posts at once, then tells how long until the next, refilling continuously', () => {
    const limiter = new ActionLimiter(3, clock);
    expect([limiter.take('acme'), limiter.take('acme'), limiter.take('acme')]).toEqual([0, 0, 0]);
    expect(limiter.take('acme')).toBe(20_000); // one post per 20 s
    now += 5_000;
    expect(limiter.take('acme')).toBe(15_000); // a refused post costs nothing
    now += 15_000;
    expect(limiter.take('acme')).toBe(0);
    expect(limiter.take('acme')).toBe(20_000);
    now += 10 * 60_000; // a long pause refills to perMinute, not beyond
    expect([0, 1, 2, 3].map(() => limiter.take('acme'))).toEqual([0, 0, 0, 20_000]);
  });

  it('counts each owner on its own', () => {
    const limiter = new ActionLimiter(1, clock);
    expect(limiter.take('acme')).toBe(0);
    expect(limiter.take('acme')).toBeGreaterThan(0);
    expect(limiter.take('globex')).toBe(0);
  });

  it('tracks at most 10 000 owners: whole allowances are forgotten first, then the oldest', () => {
    const limiter = new ActionLimiter(1, clock);
    for (let i = 0; i < 10_000; i++) expect(limiter.take(`owner-${i}`)).toBe(0); // every one busy
    expect(limiter.take('owner-0')).toBeGreaterThan(0);
    expect(limiter.take('newcomer')).toBe(0); // the oldest (owner-0) made room
    expect(limiter.take('owner-1')).toBeGreaterThan(0); // still tracked
    expect(limiter.take('owner-0')).toBe(0); // forgotten: a fresh allowance
    now += 60_000; // every allowance is whole again, except the newcomer's, taken now
    expect(limiter.take('newcomer')).toBe(0);
    expect(limiter.take('another')).toBe(0); // room made by forgetting whole allowances, not the busy newcomer
    expect(limiter.take('newcomer')).toBeGreaterThan(0);
  });
});
