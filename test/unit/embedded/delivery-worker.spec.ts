import { Test } from '@nestjs/testing';
import { ConvoyModule, InMemoryWebhookStore } from '../../../lib/index.js';

describe('embedded delivery worker', () => {
  it('an idle worker looks for due deliveries once per poll interval, not in a busy loop', async () => {
    const store = new InMemoryWebhookStore();
    let claims = 0;
    const claimDue = store.claimDue.bind(store);
    store.claimDue = (...args) => (claims++, claimDue(...args));
    const moduleRef = await Test.createTestingModule({ imports: [ConvoyModule.forRoot({ embedded: { store, pollIntervalMs: 100 } })] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      await new Promise((r) => setTimeout(r, 600));
      expect(claims).toBeGreaterThanOrEqual(3);
      expect(claims).toBeLessThanOrEqual(10);
    } finally {
      await app.close();
    }
  });
});

describe('embedded delivery worker with every slot taken', () => {
  it('waits for an attempt to end instead of looking for due deliveries over and over', async () => {
    // A receiver that never answers keeps both slots busy while more deliveries are due.
    const { createServer } = await import('node:http');
    const hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const store = new InMemoryWebhookStore();
    let looks = 0;
    const nextDueAt = store.nextDueAt.bind(store);
    const claimDue = store.claimDue.bind(store);
    store.nextDueAt = () => (looks++, nextDueAt());
    store.claimDue = (...args) => (looks++, claimDue(...args));
    const moduleRef = await Test.createTestingModule({
      imports: [ConvoyModule.forRoot({ embedded: { store, concurrency: 2, allowedAddresses: ['127.0.0.0/8'], pollIntervalMs: 1_000 }, dispatcher: { drainTimeout: 100 } })],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const { WebhookEndpoints, WebhookPublisher } = await import('../../../lib/index.js');
      await app.get(WebhookEndpoints).create({ name: 'hangs', url: `http://127.0.0.1:${(hanging.address() as { port: number }).port}/hook` });
      for (let i = 0; i < 5; i++) await app.get(WebhookPublisher).publish('todo.created', { i });
      await new Promise((r) => setTimeout(r, 200)); // the two slots fill up
      looks = 0;
      await new Promise((r) => setTimeout(r, 500));
      expect(looks).toBeLessThanOrEqual(2); // at most one poll-interval look; it spun thousands of times before
    } finally {
      hanging.closeAllConnections();
      hanging.close();
      await app.close();
    }
  });
});
