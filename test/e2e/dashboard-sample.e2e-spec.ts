import { clearSampleEnv, startSample, type StartedSample } from '../support/sample-app.js';
import { DashboardClient } from './dashboard.support.js';

/** The sample mounts the dashboard at /admin (open: NODE_ENV is test here, development under npm start). */
describe('sample app: the dashboard at /admin', () => {
  let sample: StartedSample | undefined;
  afterEach(async () => {
    await sample?.app.close();
    clearSampleEnv();
  });

  it('serves its pages and takes a form', async () => {
    sample = await startSample({});
    const client = new DashboardClient(`${sample.url.replace('[::1]', '127.0.0.1')}/admin`);
    for (const path of ['/endpoints', '/deliveries', '/health', '/endpoints/new']) {
      const page = await client.get(path);
      expect([path, page.status]).toEqual([path, 200]);
      expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    }
    const created = await client.post('/endpoints', {
      url: `${sample.url.replace('[::1]', '127.0.0.1')}/receiver`,
      name: 'demo',
      secret: 'demo-receiver-secret',
    });
    expect(created.status).toBe(201);
    expect((await client.get('/endpoints')).text).toContain('>demo</a>');
  });
});
