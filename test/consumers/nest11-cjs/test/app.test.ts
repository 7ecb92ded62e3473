import type { INestApplication } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { signConvoyPayload } from 'nestjs-convoy/receiver';
import { ConvoyTestingModule, RecordingTransport } from 'nestjs-convoy/testing';
import request from 'supertest';
import { TodosModule } from '../src/todos/todos.module';
import { TodosService } from '../src/todos/todos.service';
import { ReceiverController } from '../src/webhooks/receiver.controller';

// The app's own tests, as its developers would write them: the real TodosModule, Convoy swapped for a recorder.
describe('todos webhooks (nestjs-convoy/testing)', () => {
  let app: INestApplication;
  let webhooks: RecordingTransport;

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ConvoyTestingModule.forRoot(), TodosModule],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    webhooks = app.get(RecordingTransport);
  });
  afterEach(() => app.close());

  it('publishes todo.created with the created todo when a todo is posted, and nothing for a refused one', async () => {
    await request(app.getHttpServer()).post('/todos').send({ title: '' }).expect(400);
    const response = await request(app.getHttpServer()).post('/todos').send({ title: 'Buy milk' }).expect(201);

    const sent = await webhooks.waitFor('todo.created');
    expect(sent.data).toEqual({ id: response.body.id, title: 'Buy milk', completed: false });
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
  let app: INestApplication;

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ RECEIVER_SECRET: secret })] })],
      controllers: [ReceiverController],
    }).compile();
    app = moduleRef.createNestApplication({ rawBody: true, logger: false });
    await app.init();
  });
  afterEach(() => app.close());

  it('accepts a webhook signed with the secret, and answers 401 to any other signature', async () => {
    const body = JSON.stringify({ id: 7, title: 'Signed' });
    const signature = (secrets: string[]) => signConvoyPayload(body, { secrets, advanced: true });
    const post = (header: string) =>
      request(app.getHttpServer())
        .post('/receiver')
        .set('content-type', 'application/json')
        .set('x-convoy-signature', header)
        .send(body);

    await post(signature(['not-the-secret'])).expect(401);
    await post(signature([secret]))
      .set('x-convoy-idempotency-key', 'k-1')
      .expect(200, { ok: true });

    const received = await request(app.getHttpServer()).get('/receiver').expect(200);
    expect(received.body).toEqual([{ idempotencyKey: 'k-1', payload: { id: 7, title: 'Signed' } }]);
  });
});
