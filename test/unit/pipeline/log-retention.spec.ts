import { Logger } from '@nestjs/common';
import { LogRetention } from '../../../lib/pipeline/log-retention.js';
import type { PruneCounts, RetentionPolicy } from '../../../lib/storage/records.js';
import type { WebhookStore } from '../../../lib/storage/webhook-store.js';
import { waitUntil } from '../../support/wait.js';

/** The retention timer: runs the store's prune() one at a time with the policy, and close() stops it mid-run. */
describe('LogRetention', () => {
  const settings = { maxAgeMs: 1_000, maxRows: 10, batchSize: 2, intervalMs: 100 };

  /** A store whose prune() records its calls and stays pending until `finish()`. */
  function pruningStore() {
    const calls: Array<{ policy: RetentionPolicy; signal?: AbortSignal; finish: (c: PruneCounts) => void }> = [];
    const store = {
      prune: (policy: RetentionPolicy, _now: number, signal?: AbortSignal) =>
        new Promise<PruneCounts>((finish) => calls.push({ policy, signal, finish })),
    } as unknown as WebhookStore;
    return { store, calls };
  }

  it('runs prune() on its timer with the policy, never two at once; close() aborts the run under way and waits for it', async () => {
    const { store, calls } = pruningStore();
    const retention = new LogRetention(store, settings, new Logger('test'));
    retention.start();
    await waitUntil('the timer started a run', () => calls.length === 1);
    expect(calls[0]!.policy).toMatchObject({ maxAgeMs: 1_000, maxRows: 10, batchSize: 2 });
    await expect(retention.prune()).resolves.toBeUndefined(); // one is under way
    expect(calls).toHaveLength(1);

    let closed = false;
    const closing = retention.close().then(() => (closed = true));
    expect(calls[0]!.signal?.aborted).toBe(true);
    await Promise.resolve();
    expect(closed).toBe(false); // waits for the run's current batch
    calls[0]!.finish({ deliveries: 1, attempts: 0, events: 0 });
    await closing;
    await expect(retention.prune()).resolves.toBeUndefined(); // closed: no new run
    expect(calls).toHaveLength(1);
  });

  it('a failed run is logged and the next one goes ahead', async () => {
    let fail = true;
    const store = {
      prune: async () => {
        if (fail) throw new Error('database away');
        return { deliveries: 0, attempts: 0, events: 0 };
      },
    } as unknown as WebhookStore;
    const warnings: string[] = [];
    const logger = { warn: (m: string) => warnings.push(m), debug: () => {} } as unknown as Logger;
    const retention = new LogRetention(store, settings, logger);
    await expect(retention.prune()).resolves.toBeUndefined();
    expect(warnings).toEqual(['Could not prune the delivery log (trying again later): database away']);
    fail = false;
    await expect(retention.prune()).resolves.toEqual({ deliveries: 0, attempts: 0, events: 0 });
    await retention.close();
  });
});
