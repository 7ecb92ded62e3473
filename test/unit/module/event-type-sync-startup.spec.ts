/**
 * The module option `syncEventTypes`: with the Convoy transport and a catalog, Convoy's event types are synced before
 * the app starts; a refusal stops startup, an unreachable Convoy does not (the sync is retried in the background).
 */
import { Logger, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { z } from 'zod';
import {
  ConvoyConfigurationError,
  ConvoyModule,
  defineWebhookEvents,
  EventTypeSyncError,
  type ConvoyModuleOptions,
} from '../../../lib/index.js';
import { FakeConvoy } from '../../support/fake-convoy.js';
import { recordingLogger, type LogLine } from '../../support/recording-logger.js';
import { waitUntil } from '../../support/wait.js';

const events = defineWebhookEvents({
  'todo.created': { schema: z.object({ id: z.number() }), description: 'A todo was created.' },
  'todo.deleted': { schema: z.object({ id: z.number() }) },
});

describe('syncEventTypes at startup', () => {
  let fake: FakeConvoy;
  const lines: LogLine[] = [];
  const apps: INestApplicationContext[] = [];
  beforeEach(async () => {
    fake = await FakeConvoy.start();
    lines.length = 0;
    Logger.overrideLogger(recordingLogger(lines));
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    Logger.overrideLogger(false);
    await fake.close();
  });

  async function start(options: ConvoyModuleOptions): Promise<INestApplicationContext> {
    const app = await NestFactory.createApplicationContext(ConvoyModule.forRoot(options), { abortOnError: false });
    apps.push(app);
    return app;
  }
  const names = () => [...fake.eventTypes.values()].map((t) => t.name).sort();
  const messages = () => lines.map((l) => l.message);

  it("creates the catalog's event types before the app starts, and logs what changed", async () => {
    fake.eventTypes.set('01OLD', {
      uid: '01OLD',
      name: 'todo.old',
      category: '',
      description: '',
      json_schema: {},
      deprecated_at: null,
    });
    await start({ convoy: fake.clientOptions, events, syncEventTypes: true });
    expect(names()).toEqual(['*', 'todo.created', 'todo.deleted', 'todo.old']);
    expect(fake.eventTypes.get('01OLD')!.deprecated_at).toEqual(expect.any(String));
    expect(messages()).toEqual(
      expect.arrayContaining([
        'created todo.created',
        'created todo.deleted',
        'deprecated todo.old',
        'Event types synced: 2 created, 0 updated, 1 deprecated, 0 unchanged',
      ]),
    );
  });

  it('off by default: nothing is synced', async () => {
    await start({ convoy: fake.clientOptions, events });
    expect(names()).toEqual(['*']);
    expect(fake.requests.filter((r) => r.route.startsWith('/event-types'))).toEqual([]);
  });

  it('Convoy refusing a change stops startup with EventTypeSyncError', async () => {
    fake.failNextWhen((r) => r.method === 'POST' && r.route === '/event-types', {
      status: 400,
      body: { status: false, message: 'invalid JSON schema: boom' },
    });
    const error = await start({ convoy: fake.clientOptions, events, syncEventTypes: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventTypeSyncError);
    expect(error).toMatchObject({ eventType: 'todo.created', operation: 'create' });
    expect((error as Error).message).toContain('invalid JSON schema: boom');
  });

  it('an unreachable Convoy: the app starts with a warning, and the sync is done in the background', async () => {
    fake.setRule((r) => (r.route.startsWith('/event-types') ? { status: 503 } : undefined));
    await start({ convoy: { ...fake.clientOptions, retry: false }, events, syncEventTypes: true });
    expect(
      messages().some((m) =>
        /^Could not sync the event types to Convoy: .*503.*trying again in the background/.test(m),
      ),
    ).toBe(true);
    expect(names()).toEqual(['*']);
    fake.setRule(undefined);
    await waitUntil('the background sync', () => names().length === 3);
    expect(names()).toEqual(['*', 'todo.created', 'todo.deleted']);
  });

  it('needs a catalog; has no effect (a warning) without the Convoy transport', async () => {
    const error = await start({ convoy: fake.clientOptions, syncEventTypes: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConvoyConfigurationError);
    expect(error).toMatchObject({ option: 'syncEventTypes' });
    await start({ events, syncEventTypes: true });
    expect(messages().some((m) => /syncEventTypes has no effect: the transport is embedded/.test(m))).toBe(true);
  });
});
