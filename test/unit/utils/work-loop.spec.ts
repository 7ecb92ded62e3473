import { WorkLoop } from '../../../lib/utils/work-loop.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('WorkLoop', () => {
  it('runs at once on start, then after the delay each round returns, and never two rounds at once', async () => {
    let rounds = 0;
    let active = 0;
    let overlapping = false;
    const loop = new WorkLoop(
      async () => {
        rounds++;
        active++;
        overlapping ||= active > 1;
        await sleep(5);
        active--;
        return 100;
      },
      () => 100,
    );
    loop.start();
    for (let i = 0; i < 20; i++) loop.wake(0); // wake-ups during a round are folded into one round after it
    await sleep(350);
    await loop.stop();
    // At once, once more for the folded wake-ups, then about every 100 ms: far from a busy loop.
    expect(rounds).toBeGreaterThanOrEqual(3);
    expect(rounds).toBeLessThanOrEqual(7);
    expect(overlapping).toBe(false);
  });

  it('an earlier wake-up brings the next round forward; a later one does not push it back', async () => {
    const times: number[] = [];
    const started = Date.now();
    const loop = new WorkLoop(
      async () => (times.push(Date.now() - started), 10_000),
      () => 10_000,
    );
    loop.start();
    await sleep(20);
    loop.wake(50_000); // later than the pending 10 s round: ignored
    loop.wake(30); // earlier: the next round comes in ~30 ms
    await sleep(150);
    await loop.stop();
    expect(times).toHaveLength(2);
    expect(times[1]!).toBeGreaterThanOrEqual(45);
    expect(times[1]!).toBeLessThan(5_000);
  });

  it('a throwing round is reported, and the loop goes on after the delay onError returns', async () => {
    const errors: unknown[] = [];
    let rounds = 0;
    const loop = new WorkLoop(
      async () => {
        rounds++;
        throw new Error(`round ${rounds}`);
      },
      (error) => (errors.push(error), 20),
    );
    loop.start();
    await sleep(110);
    await loop.stop();
    expect(rounds).toBeGreaterThanOrEqual(2);
    expect((errors[0] as Error).message).toBe('round 1');
    const after = rounds;
    await sleep(60);
    expect(rounds).toBe(after); // stopped means stopped
  });

  it('stop() resolves only once the round under way has ended (and at once when none is)', async () => {
    let finish!: () => void;
    const loop = new WorkLoop(
      () => new Promise<number>((resolve) => (finish = () => resolve(1_000))),
      () => 1_000,
    );
    loop.start();
    await sleep(10); // the first round has begun, and waits for finish()
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await sleep(20);
    expect(stopped).toBe(false);
    finish();
    await stopping;
    expect(stopped).toBe(true);
    await loop.stop(); // nothing under way: resolves at once
  });
});
