/**
 * `nestjs-convoy doctor` against the fake Convoy (which answers as the recorded community Convoy): healthy, stopped,
 * a wrong key, a wrong project, missing settings. In process for the lines, and once through the built bin for the
 * exit code and the argument parsing.
 */
import { spawn } from 'node:child_process';
import { doctor, type DoctorEnv } from '../../../lib/cli/doctor.js';
import { FakeConvoy } from '../../support/fake-convoy.js';

async function run(env: DoctorEnv): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await doctor(env, (line) => lines.push(line), 2_000);
  return { code, lines };
}

describe('nestjs-convoy doctor', () => {
  let fake: FakeConvoy;
  let env: DoctorEnv;
  beforeAll(async () => {
    fake = await FakeConvoy.start();
    env = { CONVOY_URL: fake.url, CONVOY_API_KEY: fake.apiKey, CONVOY_PROJECT_ID: fake.projectId };
    const subscribed = fake.seedEndpoint({ name: 'subscribed', url: 'http://127.0.0.1:9/a' });
    fake.subscriptions.set('01SUB', {
      uid: '01SUB',
      name: 's',
      endpoint_id: subscribed.uid,
      event_types: ['*'],
      filter: {},
      delivery_mode: 'at_least_once',
      created_at: '',
      updated_at: '',
    });
    fake.seedEndpoint({ name: 'forgotten', url: 'http://127.0.0.1:9/b' });
  });
  afterAll(() => fake.close());

  it('healthy: every check in a few lines, exit 0', async () => {
    const { code, lines } = await run(env);
    expect(lines).toEqual([
      `nestjs-convoy doctor: ${fake.url}, project ${fake.projectId}, API key`,
      '✓ Convoy answers: Convoy v26.7.3 (API version 2025-11-24, as the client pins)',
      `✓ credentials accepted; they belong to project ${fake.projectId} ("fake-project"), as configured`,
      '✓ project type: outgoing (retries: linear, 10 attempts, 100 s)',
      '! licensed features: portal links no, subscription filters no (every endpoint receives every event type), event search no',
      expect.stringMatching(
        /^! endpoints without a subscription: 1 of 2, Convoy accepts their events and delivers nothing: \w+ \(forgotten\)$/,
      ),
      expect.stringMatching(/^· broadcasts: a new subscription is seen after the agent's next refresh/),
      '✓ Publishing will work.',
    ]);
    expect(code).toBe(0);
    expect(lines.join('\n')).not.toContain(fake.apiKey);
  });

  it('licensed features show as available on a licensed Convoy, and probing them creates nothing', async () => {
    fake.licensed = true;
    const before = {
      endpoints: fake.endpoints.size,
      subscriptions: fake.subscriptions.size,
      events: fake.events.size,
      links: fake.portalLinks.size,
    };
    try {
      const { code, lines } = await run(env);
      expect(lines).toContain('✓ licensed features: portal links yes, subscription filters yes, event search yes');
      expect(code).toBe(0);
    } finally {
      fake.licensed = false;
    }
    expect({
      endpoints: fake.endpoints.size,
      subscriptions: fake.subscriptions.size,
      events: fake.events.size,
      links: fake.portalLinks.size,
    }).toEqual(before);
  });

  it('a stopped Convoy: exit 1, "not reachable"', async () => {
    await fake.refuseConnections();
    try {
      const { code, lines } = await run(env);
      expect(lines.at(-1)).toMatch(/^✗ Convoy at http:\/\/127\.0\.0\.1:\d+\/api: not reachable \(ECONNREFUSED\)/);
      expect(code).toBe(1);
    } finally {
      await fake.acceptConnections();
    }
  });

  it('a wrong key: exit 1, credentials refused', async () => {
    const { code, lines } = await run({ ...env, CONVOY_API_KEY: 'CO.wrong.key' });
    expect(lines.at(-1)).toBe(
      '✗ credentials refused (401 "authorization failed"): check CONVOY_API_KEY (Project Settings > Secrets) or CONVOY_USERNAME/CONVOY_PASSWORD',
    );
    expect(code).toBe(1);
    expect(lines.join('\n')).not.toContain('CO.wrong.key');
  });

  it("a wrong project: exit 1, naming the key's project", async () => {
    const { code, lines } = await run({ ...env, CONVOY_PROJECT_ID: '01SOMEOTHERPROJECT0000000X' });
    expect(lines.at(-1)).toBe(
      `✗ credentials accepted, but they belong to project ${fake.projectId} ("fake-project"), not 01SOMEOTHERPROJECT0000000X: Convoy would publish there. Set CONVOY_PROJECT_ID=${fake.projectId}, or use that project's key`,
    );
    expect(code).toBe(1);
  });

  it("missing settings, or a URL that is not Convoy's API base: exit 1 with the fix", async () => {
    expect(await run({ CONVOY_URL: fake.url, CONVOY_API_KEY: fake.apiKey })).toEqual({
      code: 1,
      lines: [expect.stringMatching(/^✗ settings: projectId is missing \(set CONVOY_URL/)],
    });
    const wrongBase = await run({ ...env, CONVOY_URL: fake.url.replace(/\/api$/, '/v2') });
    expect(wrongBase.lines.at(-1)).toMatch(/^✗ .* answers, but not as Convoy's API \(404/);
    expect(wrongBase.code).toBe(1);
  });

  it('the bin: doctor through parseArgs, its exit code, --help and unknown flags', async () => {
    // Asynchronously: the fake answers from this process.
    const bin = (args: string[], extra: Record<string, string> = {}) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['dist/esm/cli/main.js', ...args], {
          env: { PATH: process.env.PATH ?? '', ...extra },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });
    const healthy = await bin(['doctor'], {
      CONVOY_URL: fake.url,
      CONVOY_API_KEY: fake.apiKey,
      CONVOY_PROJECT_ID: fake.projectId,
    });
    expect(healthy.stdout).toContain('✓ Publishing will work.');
    expect(healthy.status).toBe(0);
    expect(
      (
        await bin(['doctor'], {
          CONVOY_URL: fake.url,
          CONVOY_API_KEY: 'CO.wrong.key',
          CONVOY_PROJECT_ID: fake.projectId,
        })
      ).status,
    ).toBe(1);
    expect(await bin(['--help'])).toMatchObject({
      status: 0,
      stdout: expect.stringContaining('nestjs-convoy doctor  [--env-file <path>]'),
    });
    expect(await bin(['doctor', '--frobnicate'])).toMatchObject({
      status: 2,
      stderr: expect.stringContaining("Unknown option '--frobnicate'"),
    });
  });
});
