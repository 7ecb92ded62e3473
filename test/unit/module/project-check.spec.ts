/**
 * The startup check of the Convoy transport: the credentials must reach the configured project. A real Convoy uses
 * the API key's project whatever id the path names (recorded in test/conformance), and the fake does the same, so a
 * bogus projectId used to go unnoticed: every call worked, on the key's project.
 */
import { Logger, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConvoyClient, ConvoyConfigurationError, ConvoyModule, type ConvoyOptions } from '../../../lib/index.js';
import { FakeConvoy } from '../../support/fake-convoy.js';
import { recordingLogger, type LogLine } from '../../support/recording-logger.js';
import { waitUntil } from '../../support/wait.js';

describe('the startup project check (Convoy transport)', () => {
  let fake: FakeConvoy;
  const lines: LogLine[] = [];
  const apps: INestApplicationContext[] = [];
  beforeAll(async () => (fake = await FakeConvoy.start()));
  afterAll(() => fake.close());
  beforeEach(() => {
    lines.length = 0;
    Logger.overrideLogger(recordingLogger(lines));
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    Logger.overrideLogger(false);
  });

  const projectRequests = () => fake.requests.filter((r) => r.method === 'GET' && r.route === '');
  async function start(convoy: ConvoyOptions): Promise<INestApplicationContext> {
    const app = await NestFactory.createApplicationContext(ConvoyModule.forRoot({ convoy }), { abortOnError: false });
    apps.push(app);
    return app;
  }

  it("the key's project: the app starts, and says so", async () => {
    const before = projectRequests().length;
    await start(fake.clientOptions);
    expect(projectRequests()).toHaveLength(before + 1);
    expect(lines.map((l) => l.message)).toContain(
      `Convoy project ${fake.projectId} ("fake-project") confirmed for this API key.`,
    );
  });

  it("a projectId that is not the key's project stops startup with ConvoyConfigurationError naming both", async () => {
    // Without the check, this client works: the fake, like Convoy, answers on the key's project.
    const unchecked = new ConvoyClient({ ...fake.clientOptions, projectId: '01SOMEOTHERPROJECT0000000X' });
    await expect(unchecked.endpoints.list()).resolves.toMatchObject({ content: expect.any(Array) });
    await unchecked.close();

    const error = await start({ ...fake.clientOptions, projectId: '01SOMEOTHERPROJECT0000000X' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConvoyConfigurationError);
    expect(error).toMatchObject({ option: 'projectId' });
    expect((error as Error).message).toMatch(
      /"01SOMEOTHERPROJECT0000000X", but the API key belongs to project "01TESTPROJECT000000000000P"/,
    );
    expect((error as Error).message).not.toContain(fake.apiKey);
  });

  it('a wrong key stops startup with ConvoyConfigurationError on apiKey', async () => {
    const error = await start({ ...fake.clientOptions, apiKey: 'CO.wrong.key' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ option: 'apiKey', problem: 'was refused by Convoy (401 "authorization failed")' });
    expect((error as Error).message).not.toContain('CO.wrong.key');
  });

  it('basic auth with an unknown project stops startup too', async () => {
    const basicFake = await FakeConvoy.start({ basic: { username: 'admin', password: 'pa55word' } });
    try {
      const error = await start({
        baseUrl: basicFake.url,
        username: 'admin',
        password: 'pa55word',
        projectId: '01SOMEOTHERPROJECT0000000X',
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        option: 'projectId',
        problem: expect.stringContaining('which Convoy does not know (400 "project not found")'),
      });
    } finally {
      await basicFake.close();
    }
  });

  it('an incoming project stops startup', async () => {
    const incoming = await FakeConvoy.start({ projectType: 'incoming' });
    try {
      await expect(start(incoming.clientOptions)).rejects.toMatchObject({
        option: 'projectId',
        problem: 'is an incoming project; webhooks are sent from outgoing projects',
      });
    } finally {
      await incoming.close();
    }
  });

  it('Convoy down at startup: the app starts with a warning, and the check runs again in the background until Convoy answers', async () => {
    await fake.refuseConnections();
    try {
      await start(fake.clientOptions);
      expect(lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
        expect.stringMatching(
          /^Could not check that the API key belongs to project .*ECONNREFUSED.*The app starts anyway; checking again in the background\.$/,
        ),
      ]);
    } finally {
      await fake.acceptConnections();
    }
    await waitUntil('the background check confirms the project', () =>
      lines.some((l) => l.message.includes('confirmed for this API key')),
    );
  });

  it('Convoy down, then answering with another project: logged as an error (too late to stop startup)', async () => {
    await fake.refuseConnections();
    try {
      await start({ ...fake.clientOptions, projectId: '01SOMEOTHERPROJECT0000000X' });
    } finally {
      await fake.acceptConnections();
    }
    await waitUntil('the background check reports the mismatch', () =>
      lines.some((l) => l.level === 'error' && l.message.includes('the API key belongs to project')),
    );
  });

  it('verifyProject: false skips it; a non-boolean is refused like any option', async () => {
    const before = projectRequests().length;
    await start({ ...fake.clientOptions, projectId: '01SOMEOTHERPROJECT0000000X', verifyProject: false });
    expect(projectRequests()).toHaveLength(before);
    await expect(start({ ...fake.clientOptions, verifyProject: 'no' as unknown as boolean })).rejects.toMatchObject({
      option: 'convoy.verifyProject',
    });
  });

  it('the embedded engine has no project to check', async () => {
    const before = projectRequests().length;
    await start({});
    expect(projectRequests()).toHaveLength(before);
  });
});
