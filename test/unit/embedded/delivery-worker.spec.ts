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
