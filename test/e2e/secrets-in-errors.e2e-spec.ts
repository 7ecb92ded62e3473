import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { Test } from '@nestjs/testing';
import {
  ConvoyClient,
  ConvoyConfigurationError,
  ConvoyHttpError,
  ConvoyModule,
  StorageUnavailableError,
  WebhookPublisher,
} from '../../lib/index.js';
import { doctor } from '../../lib/cli/doctor.js';
import { redactUrl, redactUrls } from '../../lib/utils/redact.js';
import { recordingLogger, type LogLine } from '../support/recording-logger.js';
import { waitUntil } from '../support/wait.js';

/**
 * Issue 12, item 6: our errors and log lines never quote a credential, whoever put it there. A server that echoes
 * the request's Authorization header back (in its error message and its X-Request-ID) must not get the Convoy key
 * into an error, its cause chain or a log line; a URL option with a token in its query or userinfo is not quoted.
 */

const API_KEY = 'CO.echoed-key-4f1d9a7c2b';
const USER = 'convoy-admin';
const PASSWORD = 'echoed-password-8e2c';
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');

/** Everything an error shows: message, own properties, and the same for each cause, as util.inspect prints them. */
const everything = (error: unknown): string => inspect(error, { depth: 10, showHidden: true });

/** A server that answers every request 401 with Convoy's error envelope quoting the Authorization header it got. */
async function echoServer(): Promise<{ url: string; server: Server; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const authorization = req.headers.authorization ?? '';
    seen.push(authorization);
    const decoded = authorization.startsWith('Basic ')
      ? ` (${Buffer.from(authorization.slice(6), 'base64').toString()})`
      : '';
    res.writeHead(401, { 'content-type': 'application/json', 'x-request-id': `req-${authorization}` });
    res.end(JSON.stringify({ status: false, message: `bad token ${authorization}${decoded}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`, server, seen };
}

describe("Convoy's answers are scrubbed of the request's credentials", () => {
  let echo: Awaited<ReturnType<typeof echoServer>>;
  beforeEach(async () => (echo = await echoServer()));
  afterEach(() => new Promise((resolve) => echo.server.close(resolve)));

  it('an API key echoed back is in no error message, property, cause or request id', async () => {
    const client = new ConvoyClient({ baseUrl: echo.url, apiKey: API_KEY, projectId: 'p1', retry: false });
    try {
      const error = (await client.endpoints.list().catch((e: unknown) => e)) as ConvoyHttpError;
      expect(echo.seen).toEqual([`Bearer ${API_KEY}`]); // the server did get the key, and echoed it
      expect(error).toBeInstanceOf(ConvoyHttpError);
      expect(error.status).toBe(401);
      expect(error.convoyMessage).toBe('bad token [redacted]');
      expect(error.requestId).toBe('req-[redacted]');
      expect(everything(error)).not.toContain(API_KEY);
    } finally {
      await client.close();
    }
  });

  it('basic auth echoed back (encoded and decoded) is in no error', async () => {
    const client = new ConvoyClient({
      baseUrl: echo.url,
      username: USER,
      password: PASSWORD,
      projectId: 'p1',
      retry: false,
    });
    try {
      const error = (await client.endpoints.list().catch((e: unknown) => e)) as ConvoyHttpError;
      expect(echo.seen).toEqual([`Basic ${BASIC}`]);
      expect(error).toBeInstanceOf(ConvoyHttpError);
      for (const secret of [BASIC, PASSWORD, `${USER}:${PASSWORD}`]) expect(everything(error)).not.toContain(secret);
    } finally {
      await client.close();
    }
  });

  it('a publish that Convoy refuses logs why without the key', async () => {
    const logs: LogLine[] = [];
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConvoyModule.forRoot({
          convoy: { baseUrl: echo.url, apiKey: API_KEY, projectId: 'p1', verifyProject: false },
          delivery: { retry: { attempts: 1 } },
        }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: recordingLogger(logs) });
    await app.init();
    try {
      await app.get(WebhookPublisher).publish('todo.created', { id: 1 });
      await waitUntil('the refusal is logged', () => logs.some((l) => /bad token/.test(l.message)));
      expect(echo.seen.length).toBeGreaterThan(0);
      expect(logs.find((l) => /bad token/.test(l.message))?.message).toContain('bad token [redacted]');
      expect(logs.filter((l) => l.message.includes(API_KEY))).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('doctor prints what Convoy said without the key', async () => {
    const lines: string[] = [];
    const code = await doctor({ CONVOY_URL: echo.url, CONVOY_API_KEY: API_KEY, CONVOY_PROJECT_ID: 'p1' }, (line) =>
      lines.push(line),
    );
    expect(code).toBe(1);
    expect(lines.join('\n')).toMatch(/credentials refused \(401 "bad token \[redacted\]"\)/);
    expect(lines.join('\n')).not.toContain(API_KEY);
  });
});

describe('URLs in configuration errors and log lines', () => {
  const TOKEN = 'tok-3b8e51';

  /** The module's configuration error for these Convoy options, and every line the boot logged. */
  async function bootError(convoy: Record<string, unknown>): Promise<{ error: unknown; logs: LogLine[] }> {
    const logs: LogLine[] = [];
    const error = await Test.createTestingModule({
      imports: [ConvoyModule.forRoot({ convoy: { apiKey: API_KEY, projectId: 'p1', ...convoy } })],
    })
      .setLogger(recordingLogger(logs))
      .compile()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    return { error, logs };
  }

  it.each([
    [
      'a query',
      { baseUrl: `convoy.example/api?token=${TOKEN}` },
      /"convoy\.example\/api\?\*\*\*" is not an absolute URL/,
    ],
    ['userinfo', { baseUrl: `admin:${TOKEN}@convoy.example/api` }, /"convoy\.baseUrl": contains credentials/],
    ['a URL given as projectId', { projectId: `https://convoy.example/p?token=${TOKEN}` }, /\?\*\*\*/],
  ])('a baseUrl or option with %s is refused without quoting it', async (_what, convoy, expected) => {
    const { error, logs } = await bootError(convoy);
    expect(error).toBeInstanceOf(ConvoyConfigurationError);
    expect((error as Error).message).toMatch(expected);
    expect(everything(error)).not.toContain(TOKEN);
    expect(logs.filter((l) => l.message.includes(TOKEN))).toEqual([]);
  });

  it('redactUrl keeps scheme, host and path; drops userinfo, query and fragment, parsed or not', () => {
    expect(redactUrl(`https://user:${TOKEN}@host.example:8443/a/b?token=${TOKEN}#frag`)).toBe(
      'https://***@host.example:8443/a/b?***',
    );
    expect(redactUrl(`host.example/x#${TOKEN}`)).toBe('host.example/x');
    expect(redactUrl('http://host.example/plain')).toBe('http://host.example/plain');
    expect(redactUrls(`connect to postgres://app:${TOKEN}@db:5432/x?sslpassword=${TOKEN} failed`)).toBe(
      'connect to postgres://***@db:5432/x?*** failed',
    );
  });

  it('a storage error quoting a connection string does not carry the password in our message', () => {
    const error = new StorageUnavailableError('enqueue', new Error(`cannot reach postgres://app:${TOKEN}@db/x`));
    expect(error.message).toContain('postgres://***@db/x');
    expect(error.message).not.toContain(TOKEN);
  });
});
