import { createServer, type Server } from 'node:http';
import { getEventListeners } from 'node:events';
import { Pool } from 'undici';
import { HttpExchangeTimeout, httpExchange } from '../../../lib/utils/http-exchange.js';

/** A server whose answer each test sets: `answer(req, res)`. */
let answer: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
let server: Server;
let pool: Pool;

beforeAll(async () => {
  server = createServer((req, res) => answer(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  pool = new Pool(`http://127.0.0.1:${(server.address() as { port: number }).port}`, { connections: 4 });
});
afterAll(async () => {
  await pool.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const post = {
  method: 'POST' as const,
  path: '/hook',
  headers: { 'content-type': 'application/json' },
  body: '{"a":1}',
};

describe('httpExchange', () => {
  it('returns the status, lower-case headers and the whole body, also when it arrives in several chunks', async () => {
    answer = (req, res) => {
      let body = '';
      req
        .on('data', (c) => (body += c))
        .on('end', () => {
          res.writeHead(201, { 'X-Request-Id': 'r-1', 'content-type': 'text/plain' });
          res.write(`got ${body} `);
          setTimeout(() => res.end('ünïcode end'), 20);
        });
    };
    const result = await httpExchange(pool, post, { timeoutMs: 2_000 });
    expect(result.status).toBe(201);
    expect(result.headers['x-request-id']).toBe('r-1');
    expect(result.body.toString('utf8')).toBe('got {"a":1} ünïcode end');
    expect(result.truncated).toBe(false);
  });

  it('reads at most maxBodyBytes and says the body was cut', async () => {
    answer = (_req, res) => res.end('x'.repeat(100_000));
    const result = await httpExchange(pool, post, { timeoutMs: 2_000, maxBodyBytes: 1_000 });
    expect(result.status).toBe(200);
    expect(result.body).toHaveLength(1_000);
    expect(result.truncated).toBe(true);
  });

  it('rejects with HttpExchangeTimeout when no complete answer comes in time', async () => {
    answer = () => undefined; // never answers
    const started = Date.now();
    await expect(httpExchange(pool, post, { timeoutMs: 150 })).rejects.toBeInstanceOf(HttpExchangeTimeout);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('times each exchange out on its own deadline: a short one behind a long one expires first, the long one lives on', async () => {
    let holdLong: (() => void) | undefined;
    answer = (req, res) => {
      if (req.headers['x-which'] === 'long') holdLong = () => res.end('late but in time');
    }; // the short one is never answered
    let longSettled = false;
    const long = httpExchange(
      pool,
      { ...post, headers: { ...post.headers, 'x-which': 'long' } },
      { timeoutMs: 60_000 },
    );
    void long.finally(() => (longSettled = true));
    const short = httpExchange(pool, { ...post, headers: { ...post.headers, 'x-which': 'short' } }, { timeoutMs: 150 });
    await expect(short).rejects.toMatchObject({ timeoutMs: 150 });
    await expect(short).rejects.toBeInstanceOf(HttpExchangeTimeout);
    expect(longSettled).toBe(false);
    while (!holdLong) await new Promise((resolve) => setTimeout(resolve, 10));
    holdLong();
    expect((await long).body.toString()).toBe('late but in time');
  });

  it('rejects with the reason of a shared signal, which gets one listener however many exchanges wait on it', async () => {
    answer = () => undefined;
    const shutdown = new AbortController();
    const exchanges = Array.from({ length: 3 }, () =>
      httpExchange(pool, post, { timeoutMs: 10_000, signal: shutdown.signal }),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(1);
    const reason = new Error('shutting down');
    shutdown.abort(reason);
    for (const exchange of exchanges) await expect(exchange).rejects.toBe(reason);
  });

  it('exchanges that end in any order (answered, timed out) leave the others to their deadline and signal', async () => {
    answer = (req, res) => {
      if (req.headers['x-answer'] === 'yes') res.end(String(req.headers['x-n']));
    }; // the others are never answered
    const shutdown = new AbortController();
    const send = (n: number, answered: boolean, timeoutMs: number) =>
      httpExchange(
        pool,
        { ...post, headers: { ...post.headers, 'x-n': String(n), 'x-answer': answered ? 'yes' : 'no' } },
        { timeoutMs, signal: shutdown.signal },
      );
    // The first and the last sent are answered and one between them times out: the exchanges watched lose their
    // oldest, their newest and one in the middle, while two wait on.
    const first = send(1, true, 10_000);
    const waiting = [send(2, false, 10_000)];
    const timedOut = send(3, false, 150);
    waiting.push(send(4, false, 10_000));
    const last = send(5, true, 10_000);
    expect((await first).body.toString()).toBe('1');
    expect((await last).body.toString()).toBe('5');
    await expect(timedOut).rejects.toBeInstanceOf(HttpExchangeTimeout);
    let settled = 0;
    for (const exchange of waiting) void exchange.catch(() => settled++);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).toBe(0); // not taken by the sweep that timed out the other one
    const reason = new Error('shutting down');
    shutdown.abort(reason);
    for (const exchange of waiting) await expect(exchange).rejects.toBe(reason);
    // Answered ones were no longer waiting on the signal: they stay answered.
    expect((await first).status).toBe(200);
  });

  it('rejects at once, sending nothing, when the signal has already aborted', async () => {
    let requests = 0;
    answer = (_req, res) => (requests++, res.end());
    const done = new AbortController();
    done.abort(new Error('already closed'));
    await expect(httpExchange(pool, post, { timeoutMs: 1_000, signal: done.signal })).rejects.toThrow('already closed');
    expect(requests).toBe(0);
  });

  it('passes on a connection failure as undici reports it', async () => {
    const closed = new Pool('http://127.0.0.1:1');
    try {
      await expect(httpExchange(closed, post, { timeoutMs: 2_000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await closed.close();
    }
  });
});
