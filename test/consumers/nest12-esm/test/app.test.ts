import { ConfigModule } from '@nestjs/config';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { signConvoyPayload } from 'nestjs-convoy/receiver';
import { ConvoyTestingModule, RecordingTransport } from 'nestjs-convoy/testing';
import { TodosModule } from '../src/todos/todos.module.js';
import { TodosService } from '../src/todos/todos.service.js';
import { ReceiverController } from '../src/webhooks/receiver.controller.js';

// The app's own tests, as its developers would write them: the real TodosModule, Convoy swapped for a recorder.
// Requests go to a real port on 127.0.0.1 with fetch: Fastify's inject() needs light-my-request, whose cookie@2 is
// ESM that Jest cannot require() on Node 20.

async function start(app: NestFastifyApplication): Promise<(path: string, init?: RequestInit) => Promise<Response>> {
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  return (path, init) => fetch(`${url}${path}`, init);
}

const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

describe('todos webhooks (nestjs-convoy/testing)', () => {
  let app: NestFastifyApplication;
  let http: Awaited<ReturnType<typeof start>>;
  let webhooks: RecordingTransport;

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ConvoyTestingModule.forRoot(), TodosModule],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    http = await start(app);
    webhooks = app.get(RecordingTransport);
  });
  afterEach(() => app.close());

  it('publishes todo.created with the created todo when a todo is posted, and nothing for a refused one', async () => {
    expect((await http('/todos', json({ title: '' }))).status).toBe(400);
    const response = await http('/todos', json({ title: 'Buy milk' }));
    expect(response.status).toBe(201);
    const todo = (await response.json()) as { id: string };

    const sent = await webhooks.waitFor('todo.created');
    expect(sent.data).toEqual({ id: todo.id, title: 'Buy milk', completed: false });
    expect(sent.target).toEqual({ broadcast: true });
    expect(webhooks.ofType('todo.created')).toHaveLength(1);
  });

  it('publishes todo.completed from the service, keyed so that a repeat is recognisable', async () => {
    const todos = app.get(TodosService);
    const todo = todos.create('Walk the dog');
    await todos.complete(todo.id);

    const sent = await webhooks.waitFor('todo.completed');
    expect(sent.data).toEqual({ id: todo.id, title: 'Walk the dog', completed: true });
    expect(sent.idempotencyKey).toBe(`todo-${todo.id}-completed`);
    expect(JSON.parse(sent.payload)).toEqual(sent.data);
  });
});

describe('receiver (nestjs-convoy/receiver)', () => {
  const secret = 'test-receiver-secret';
  let app: NestFastifyApplication;
  let http: Awaited<ReturnType<typeof start>>;

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ RECEIVER_SECRET: secret })] })],
      controllers: [ReceiverController],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
      rawBody: true,
      logger: false,
    });
    http = await start(app);
  });
  afterEach(() => app.close());

  it('accepts a webhook signed with the secret, and answers 401 to any other signature', async () => {
    const payload = JSON.stringify({ id: 7, title: 'Signed' });
    const post = (secrets: string[], headers: Record<string, string> = {}) =>
      http('/receiver', {
        method: 'POST',
        body: payload,
        headers: {
          'content-type': 'application/json',
          'x-convoy-signature': signConvoyPayload(payload, { secrets, advanced: true }),
          ...headers,
        },
      });

    expect((await post(['not-the-secret'])).status).toBe(401);
    const accepted = await post([secret], { 'x-convoy-idempotency-key': 'k-1' });
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toEqual({ ok: true });

    const received = await http('/receiver');
    expect(await received.json()).toEqual([{ idempotencyKey: 'k-1', payload: { id: 7, title: 'Signed' } }]);
  });
});
