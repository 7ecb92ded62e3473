import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { inspect } from 'node:util';
import { jest } from '@jest/globals';
import { Agent, request, type Dispatcher } from 'undici';
import { AddressPolicy } from '../../lib/network/address-policy.js';
import {
  checkDestination,
  createGuardedAgent,
  createGuardedLookup,
  parseDestinationUrl,
  type LookupAll,
  type ResolvedAddress,
} from '../../lib/network/destination.js';
import { DestinationBlockedError, InvalidDestinationError } from '../../lib/errors/destination.errors.js';
import { ConvoyError } from '../../lib/errors/convoy.error.js';

/**
 * The SSRF guard end to end: a real node:http server on 127.0.0.1 plays the "internal service", and undici requests
 * go through the guarded agent. Fake resolvers stand in for hostile DNS (names under the reserved .test TLD).
 */

interface TestServer {
  server: Server;
  port: number;
  /** Paths requested, in order. */
  paths: string[];
  hosts: string[];
  /** TCP connections accepted: 0 proves not even a SYN got through. */
  connections: number;
}

async function startServer(handler?: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestServer> {
  const state = { paths: [] as string[], hosts: [] as string[], connections: 0 } as TestServer;
  state.server = createServer((req, res) => {
    state.paths.push(req.url ?? '');
    state.hosts.push(req.headers.host ?? '');
    if (handler) handler(req, res);
    else res.end('internal secret');
  });
  state.server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.port = (state.server.address() as AddressInfo).port;
  return state;
}

async function stopServer(target: TestServer): Promise<void> {
  target.server.closeAllConnections();
  await new Promise<void>((resolve) => target.server.close(() => resolve()));
}

/** A resolver with fixed answers per name; records every name it was asked for. */
function fakeDns(table: Record<string, string[] | (() => string[])>): LookupAll & { asked: string[] } {
  const asked: string[] = [];
  const lookupAll = async (hostname: string): Promise<ResolvedAddress[]> => {
    asked.push(hostname);
    const entry = table[hostname];
    if (!entry) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    const addresses = typeof entry === 'function' ? entry() : entry;
    return addresses.map((address) => ({ address, family: net.isIP(address) === 6 ? 6 : 4 }));
  };
  return Object.assign(lookupAll, { asked });
}

/** A resolver that must never be consulted (IP-literal hosts, localhost). */
const noDns: LookupAll = async (hostname) => {
  throw new Error(`DNS must not be used, but ${hostname} was looked up`);
};

let server: TestServer;
const agents: Dispatcher[] = [];
/** A guarded agent that is closed after the test. */
function guarded(policy: AddressPolicy, lookupAll?: LookupAll, connections?: number): Agent {
  const agent = createGuardedAgent(policy, { lookupAll, connections, connectTimeoutMs: 2_000 });
  agents.push(agent);
  return agent;
}

async function get(url: string, dispatcher: Dispatcher) {
  const response = await request(url, { dispatcher });
  const body = await response.body.text();
  return { statusCode: response.statusCode, body };
}

/** Awaits the promise and returns what it rejected with (fails the test if it resolved). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    (value) => ({ resolved: value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${inspect(outcome.resolved)}`);
  return outcome.error as Error;
}

beforeEach(async () => {
  server = await startServer();
});
afterEach(async () => {
  jest.restoreAllMocks();
  await Promise.all(agents.splice(0).map((agent) => agent.close()));
  await stopServer(server);
});

describe('guarded agent against a real local server', () => {
  it('refuses 127.0.0.1 and localhost under the default policy without opening a connection', async () => {
    const policy = new AddressPolicy();
    const agent = guarded(policy, noDns);
    for (const host of ['127.0.0.1', 'localhost']) {
      const error = await rejection(get(`http://${host}:${server.port}/`, agent));
      expect(error).toBeInstanceOf(DestinationBlockedError);
      expect(error).toBeInstanceOf(ConvoyError);
      expect(error).toMatchObject({
        category: 'loopback',
        address: '127.0.0.1',
        origin: `http://${host}:${server.port}`,
        retryable: false,
      });
    }
    expect(server.connections).toBe(0);
    expect(server.paths).toEqual([]);

    // Control: the same server is reachable without the guard, so the refusal above is the guard's doing.
    const plain = new Agent();
    agents.push(plain);
    expect(await get(`http://127.0.0.1:${server.port}/`, plain)).toEqual({ statusCode: 200, body: 'internal secret' });
    expect(server.paths).toEqual(['/']);
  });

  it('lets the same requests through when allowedAddresses lists 127.0.0.0/8, reusing a kept-alive connection per origin', async () => {
    // connections: 1 makes reuse deterministic (with no limit the pool may open a second socket before the first is released).
    const agent = guarded(new AddressPolicy({ allowedAddresses: ['127.0.0.0/8'] }), noDns, 1);
    expect(await get(`http://127.0.0.1:${server.port}/a`, agent)).toEqual({ statusCode: 200, body: 'internal secret' });
    expect(await get(`http://127.0.0.1:${server.port}/b`, agent)).toEqual({ statusCode: 200, body: 'internal secret' });
    // localhost is answered without DNS with the loopback addresses the policy allows (here only 127.0.0.1).
    expect(await get(`http://localhost:${server.port}/c`, agent)).toEqual({ statusCode: 200, body: 'internal secret' });
    expect(server.paths).toEqual(['/a', '/b', '/c']);
    expect(server.hosts[2]).toBe(`localhost:${server.port}`);
    expect(server.connections).toBe(2); // /a and /b shared one connection; localhost is another origin
  });

  it('connects a name to the address it checked, keeping the name in the Host header', async () => {
    const dns = fakeDns({ 'ok.test': ['127.0.0.1'] });
    const agent = guarded(new AddressPolicy({ allowedAddresses: ['127.0.0.0/8'] }), dns);
    expect(await get(`http://ok.test:${server.port}/hook`, agent)).toEqual({
      statusCode: 200,
      body: 'internal secret',
    });
    expect(server.hosts).toEqual([`ok.test:${server.port}`]);
    expect(dns.asked).toEqual(['ok.test']);
  });

  it('refuses a DNS answer that mixes an allowed and a refused address, even with loopback allowed', async () => {
    const dns = fakeDns({ 'mixed.test': ['127.0.0.1', '10.0.0.7'], 'public-mix.test': ['8.8.8.8', '127.0.0.1'] });
    const policy = new AddressPolicy({ allowedAddresses: ['127.0.0.0/8'] });
    const url = `http://mixed.test:${server.port}/`;
    const expected = { category: 'private', address: '10.0.0.7', origin: `http://mixed.test:${server.port}` };

    await expect(checkDestination(url, policy, dns)).rejects.toThrow(DestinationBlockedError);
    await expect(checkDestination(url, policy, dns)).rejects.toMatchObject(expected);
    const error = await rejection(get(url, guarded(policy, dns)));
    expect(error).toBeInstanceOf(DestinationBlockedError);
    expect(error).toMatchObject(expected);
    // A public first answer does not excuse a loopback second one.
    await expect(checkDestination('https://public-mix.test/', new AddressPolicy(), dns)).rejects.toMatchObject({
      category: 'loopback',
      address: '127.0.0.1',
    });
    expect(server.connections).toBe(0);
  });

  it('re-checks at connect time, so a name that rebinds to 127.0.0.1 after checkDestination is refused', async () => {
    let calls = 0;
    // First answer public (what the endpoint check sees), later answers loopback (what a rebinding attacker serves).
    const dns = fakeDns({ 'rebind.test': () => (calls++ === 0 ? ['93.184.215.14'] : ['127.0.0.1']) });
    const policy = new AddressPolicy();
    const url = `http://rebind.test:${server.port}/`;

    expect(await checkDestination(url, policy, dns)).toEqual([{ address: '93.184.215.14', family: 4 }]);
    const error = await rejection(get(url, guarded(policy, dns)));
    expect(error).toBeInstanceOf(DestinationBlockedError);
    expect(error).toMatchObject({
      category: 'loopback',
      address: '127.0.0.1',
      origin: `http://rebind.test:${server.port}`,
    });
    expect(calls).toBe(2);
    expect(server.connections).toBe(0);
  });

  it.each([
    ['http://[::ffff:127.0.0.1]:PORT/', '[::ffff:7f00:1]', '::ffff:7f00:1'],
    ['http://[::ffff:7f00:1]:PORT/', '[::ffff:7f00:1]', '::ffff:7f00:1'],
    ['http://[::127.0.0.1]:PORT/', '[::7f00:1]', '::7f00:1'],
    ['http://2130706433:PORT/', '127.0.0.1', '127.0.0.1'],
    ['http://0x7f.1:PORT/', '127.0.0.1', '127.0.0.1'],
    ['http://0177.0.0.1:PORT/', '127.0.0.1', '127.0.0.1'],
    ['http://127.1:PORT/', '127.0.0.1', '127.0.0.1'],
    ['http://0x7F000001:PORT/', '127.0.0.1', '127.0.0.1'],
  ])('normalizes %s to %s and refuses it as loopback', async (template, hostname, address) => {
    const url = template.replace('PORT', String(server.port));
    expect(parseDestinationUrl(url).hostname).toBe(hostname);
    await expect(checkDestination(url, new AddressPolicy(), noDns)).rejects.toMatchObject({
      category: 'loopback',
      address,
    });
    const error = await rejection(get(url, guarded(new AddressPolicy(), noDns)));
    expect(error).toBeInstanceOf(DestinationBlockedError);
    expect(error).toMatchObject({ category: 'loopback', address, origin: `http://${hostname}:${server.port}` });
    expect(server.connections).toBe(0);
  });

  it('does not follow redirects: a 302 to /internal is returned as is', async () => {
    await stopServer(server);
    server = await startServer((req, res) => {
      if (req.url === '/start') res.writeHead(302, { location: '/internal' }).end();
      else res.end('internal');
    });
    const agent = guarded(new AddressPolicy({ allowedAddresses: ['127.0.0.0/8'] }), noDns);
    const response = await get(`http://127.0.0.1:${server.port}/start`, agent);
    expect(response.statusCode).toBe(302);
    expect(server.paths).toEqual(['/start']);
  });

  it('ignores HTTP_PROXY / HTTPS_PROXY from the environment', async () => {
    const proxy = await startServer((_req, res) => res.end('via proxy'));
    const keys = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'] as const;
    const saved = Object.fromEntries(keys.map((key) => [key, process.env[key]]));
    try {
      for (const key of keys) delete process.env[key];
      for (const key of keys.slice(0, 4)) process.env[key] = `http://127.0.0.1:${proxy.port}`;
      // Created while the variables are set, in case a constructor read them.
      const agent = guarded(new AddressPolicy({ allowedAddresses: ['127.0.0.0/8'] }), noDns);
      expect(await get(`http://127.0.0.1:${server.port}/direct`, agent)).toEqual({
        statusCode: 200,
        body: 'internal secret',
      });
      expect(server.paths).toEqual(['/direct']); // a proxy would have received the absolute-form target instead
      expect(proxy.connections).toBe(0);
    } finally {
      for (const key of keys) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
      await stopServer(proxy);
    }
  });
});

describe('cloud metadata', () => {
  const policy = new AddressPolicy({ allowPrivateNetworks: true });
  let dns: ReturnType<typeof fakeDns>;
  beforeEach(() => {
    dns = fakeDns({ 'ok.test': ['127.0.0.1'], 'metadata.test': ['169.254.169.254'], 'ecs.test': ['169.254.170.2'] });
  });

  it('is refused as an IP literal without any network traffic (no socket at all), even with allowPrivateNetworks', async () => {
    const connect = jest.spyOn(net, 'connect');
    const tlsConnect = jest.spyOn(tls, 'connect');
    // Control: the spy sees the sockets undici opens, so "not called" below means something.
    expect((await get(`http://ok.test:${server.port}/`, guarded(policy, dns))).statusCode).toBe(200);
    expect(connect).toHaveBeenCalled();

    connect.mockClear();
    // From here on a socket would fail loudly instead of sending anything.
    connect.mockImplementation(() => {
      throw new Error('net.connect must not be called');
    });
    tlsConnect.mockImplementation(() => {
      throw new Error('tls.connect must not be called');
    });
    const agent = guarded(policy, noDns);
    const cases: Array<[string, string, string]> = [
      ['http://169.254.169.254/latest/meta-data', '169.254.169.254', 'http://169.254.169.254'],
      [
        'https://169.254.169.254/latest/meta-data/iam/security-credentials/',
        '169.254.169.254',
        'https://169.254.169.254',
      ],
      ['http://[::ffff:169.254.169.254]/latest/meta-data', '::ffff:a9fe:a9fe', 'http://[::ffff:a9fe:a9fe]'],
      ['http://[fd00:ec2::254]/latest/meta-data', 'fd00:ec2::254', 'http://[fd00:ec2::254]'],
      ['http://[64:ff9b::a9fe:a9fe]/latest/meta-data', '64:ff9b::a9fe:a9fe', 'http://[64:ff9b::a9fe:a9fe]'],
      ['http://100.100.100.200/latest/meta-data', '100.100.100.200', 'http://100.100.100.200'],
      ['http://2852039166/latest/meta-data', '169.254.169.254', 'http://169.254.169.254'],
    ];
    for (const [url, address, origin] of cases) {
      await expect(checkDestination(url, policy, noDns)).rejects.toMatchObject({
        category: 'metadata',
        address,
        origin,
      });
      const error = await rejection(get(url, agent));
      expect([url, error]).toEqual([url, expect.any(DestinationBlockedError)]);
      expect(error).toMatchObject({ category: 'metadata', address, origin });
    }
    expect(connect).not.toHaveBeenCalled();
    expect(tlsConnect).not.toHaveBeenCalled();
  });

  it('is refused for a name resolving to it before any connection attempt', async () => {
    // For a name, net.connect runs (it is what calls our lookup), but the lookup fails so no connection is attempted.
    const attempts: unknown[] = [];
    const watch = <S extends net.Socket>(socket: S): S =>
      socket.on('connectionAttempt', (address: string) => attempts.push(address));
    const originalNet = net.connect;
    const originalTls = tls.connect;
    const connect = jest
      .spyOn(net, 'connect')
      .mockImplementation(((...args: Parameters<typeof net.connect>) =>
        watch(originalNet(...args))) as typeof net.connect);
    const tlsConnect = jest
      .spyOn(tls, 'connect')
      .mockImplementation(((...args: Parameters<typeof tls.connect>) =>
        watch(originalTls(...args))) as typeof tls.connect);
    const agent = guarded(policy, dns);
    // Control: a permitted name does show up as a connection attempt.
    expect((await get(`http://ok.test:${server.port}/`, agent)).statusCode).toBe(200);
    expect(attempts).toEqual(['127.0.0.1']);

    for (const [url, address, origin] of [
      ['http://metadata.test/computeMetadata/v1/', '169.254.169.254', 'http://metadata.test'],
      ['https://ecs.test/v2/credentials', '169.254.170.2', 'https://ecs.test'],
    ]) {
      await expect(checkDestination(url!, policy, dns)).rejects.toMatchObject({
        category: 'metadata',
        address,
        origin,
      });
      const error = await rejection(get(url!, agent));
      expect([url, error]).toEqual([url, expect.any(DestinationBlockedError)]);
      expect(error).toMatchObject({ category: 'metadata', address, origin });
    }
    // Three sockets were created (ok.test, metadata.test over TCP, ecs.test over TLS), one connection attempted.
    expect(connect).toHaveBeenCalledTimes(2);
    expect(tlsConnect).toHaveBeenCalledTimes(1);
    expect(attempts).toEqual(['127.0.0.1']);
    expect(dns.asked).toEqual(['ok.test', 'metadata.test', 'metadata.test', 'ecs.test', 'ecs.test']);
  });
});

describe('parseDestinationUrl', () => {
  it('returns the normalized URL', () => {
    const url = parseDestinationUrl('HTTPS://Example.COM:443/a/../hooks/%7Euser?x=1&y=%20');
    expect(url).toBeInstanceOf(URL);
    expect(url.href).toBe('https://example.com/hooks/%7Euser?x=1&y=%20');
    expect(parseDestinationUrl('http://example.com:8080').href).toBe('http://example.com:8080/');
  });

  it.each([
    ['file:///etc/passwd', /scheme "file:" is not allowed; use http: or https:/],
    ['ftp://example.com/pub', /scheme "ftp:" is not allowed/],
    ['gopher://127.0.0.1:6379/_FLUSHALL', /scheme "gopher:" is not allowed/],
    ['ws://example.com/socket', /scheme "ws:" is not allowed/],
    ['javascript:alert(1)', /scheme "javascript:" is not allowed/],
    ['data:text/plain,hi', /scheme "data:" is not allowed/],
    ['/relative/path', /not an absolute URL/],
    ['example.com/hook', /not an absolute URL/],
    ['http://', /not an absolute URL/],
    ['http://[fe80::1%25eth0]/', /not an absolute URL/], // WHATWG URLs have no IPv6 zone ids
    ['http://user:pass@example.com/', /must not contain credentials/],
    ['http://user@example.com/', /must not contain credentials/],
    ['http://:pass@example.com/', /must not contain credentials/],
    ['https://example.com/hook#section', /must not contain a fragment/],
    ['https://example.com/hook#', /must not contain a fragment/],
    ['http://example.com:0/', /port 0/],
  ])('refuses %s', (url, reason) => {
    const error = (() => {
      try {
        parseDestinationUrl(url);
      } catch (e) {
        return e;
      }
      return undefined;
    })() as InvalidDestinationError;
    expect(error).toBeInstanceOf(InvalidDestinationError);
    expect(error).toBeInstanceOf(ConvoyError);
    expect(error.retryable).toBe(false);
    expect(error.reason).toMatch(reason);
    expect(error.message).toBe(`Invalid webhook destination URL: ${error.reason}`);
  });

  it('refuses a non-string, and checkDestination refuses what it refuses before any lookup', async () => {
    expect(() => parseDestinationUrl(42 as unknown as string)).toThrow(InvalidDestinationError);
    await expect(checkDestination('gopher://example.com/', new AddressPolicy(), noDns)).rejects.toThrow(
      InvalidDestinationError,
    );
    await expect(checkDestination(new URL('http://u:p@example.com/'), new AddressPolicy(), noDns)).rejects.toThrow(
      /credentials/,
    );
  });
});

describe('error messages', () => {
  const secrets = ['alice', 'hunter2', 'p4th-S3CRET', 'SECRET123', 'token'];
  const expectNoSecrets = (error: unknown) => {
    const rendered = `${String(error)}\n${inspect(error, { depth: 5 })}\n${JSON.stringify(error)}`;
    for (const secret of secrets) expect([secret, rendered.includes(secret)]).toEqual([secret, false]);
  };

  it('never contain the path, query or credentials of the URL', async () => {
    const withCredentials = `http://alice:hunter2@127.0.0.1:${server.port}/hooks/p4th-S3CRET?token=SECRET123`;
    const plain = `http://127.0.0.1:${server.port}/hooks/p4th-S3CRET?token=SECRET123`;
    const policy = new AddressPolicy();
    const dns = fakeDns({ 'mixed.test': ['8.8.8.8', '10.0.0.7'] });

    const errors: unknown[] = [
      await rejection(checkDestination(withCredentials, policy, noDns)),
      await rejection(checkDestination(`gopher://alice:hunter2@127.0.0.1/p4th-S3CRET?token=SECRET123`, policy, noDns)),
      await rejection(checkDestination(`https://example.com/p4th-S3CRET?token=SECRET123#alice`, policy, noDns)),
      await rejection(checkDestination(plain, policy, noDns)),
      await rejection(get(plain, guarded(policy, noDns))),
      await rejection(get(`http://mixed.test:${server.port}/hooks/p4th-S3CRET?token=SECRET123`, guarded(policy, dns))),
      // A full URL handed to the constructor by mistake is cut down to its origin.
      new DestinationBlockedError(withCredentials, '127.0.0.1', 'loopback'),
    ];
    expect(errors.map((e) => (e as Error).constructor.name)).toEqual([
      'InvalidDestinationError',
      'InvalidDestinationError',
      'InvalidDestinationError',
      'DestinationBlockedError',
      'DestinationBlockedError',
      'DestinationBlockedError',
      'DestinationBlockedError',
    ]);
    errors.forEach(expectNoSecrets);
    expect(errors[3]).toMatchObject({ origin: `http://127.0.0.1:${server.port}` });
    expect((errors[3] as Error).message).toBe(
      `Webhook destination http://127.0.0.1:${server.port} is a loopback address; refusing to connect (SSRF guard)`,
    );
    expect((errors[5] as Error).message).toBe(
      `Webhook destination http://mixed.test:${server.port} resolves to 10.0.0.7, which is a private address; refusing to connect (SSRF guard)`,
    );
    expect(errors[6]).toMatchObject({ origin: `http://127.0.0.1:${server.port}` });
    expect(server.connections).toBe(0);
  });
});

describe('createGuardedLookup', () => {
  type Result = { err: NodeJS.ErrnoException | null; address: unknown; family?: number };
  const call = (lookup: net.LookupFunction, hostname: string, options: Parameters<net.LookupFunction>[1]) =>
    new Promise<Result>((resolve) =>
      lookup(hostname, options, (err, address, family) => resolve({ err, address, family })),
    );
  const dns = fakeDns({
    'ok.test': ['127.0.0.1'],
    'dual.test': ['127.0.0.1', '::1'],
    'mixed.test': ['127.0.0.1', '10.0.0.7'],
  });
  const loopback = new AddressPolicy({ allowedAddresses: ['127.0.0.0/8', '::1/128'] });

  it('answers in both callback shapes with the checked addresses, honouring options.family', async () => {
    const lookup = createGuardedLookup(loopback, dns);
    expect(await call(lookup, 'ok.test', {})).toEqual({ err: null, address: '127.0.0.1', family: 4 });
    expect(await call(lookup, 'dual.test', { all: true })).toEqual({
      err: null,
      address: [
        { address: '127.0.0.1', family: 4 },
        { address: '::1', family: 6 },
      ],
      family: undefined,
    });
    expect(await call(lookup, 'dual.test', { family: 6 })).toEqual({ err: null, address: '::1', family: 6 });
    expect(await call(lookup, 'dual.test', { family: 4, all: true })).toEqual({
      err: null,
      address: [{ address: '127.0.0.1', family: 4 }],
      family: undefined,
    });
    expect(await call(lookup, 'ok.test', { family: 6 })).toMatchObject({ err: { code: 'ENOTFOUND' } });
  });

  it('fails with DestinationBlockedError unless every answer passes, and passes resolver errors through', async () => {
    const lookup = createGuardedLookup(new AddressPolicy({ allowedAddresses: ['127.0.0.0/8'] }), dns);
    for (const options of [{}, { all: true }]) {
      const { err } = await call(lookup, 'mixed.test', options);
      expect(err).toBeInstanceOf(DestinationBlockedError);
      expect(err).toMatchObject({ origin: 'mixed.test', address: '10.0.0.7', category: 'private' });
      expect(await call(lookup, 'dual.test', options)).toMatchObject({ err: { category: 'loopback', address: '::1' } });
      expect(await call(lookup, 'nowhere.test', options)).toMatchObject({ err: { code: 'ENOTFOUND' } });
    }
    // localhost: never resolved; only the loopback addresses the policy allows are offered.
    expect(await call(lookup, 'localhost', { all: true })).toEqual({
      err: null,
      address: [{ address: '127.0.0.1', family: 4 }],
      family: undefined,
    });
    expect(await call(lookup, 'api.localhost.', {})).toEqual({ err: null, address: '127.0.0.1', family: 4 });
    expect(await call(createGuardedLookup(new AddressPolicy(), noDns), 'localhost', {})).toMatchObject({
      err: { category: 'loopback' },
    });
  });

  it.each([true, false])('works as net.connect lookup (autoSelectFamily %s)', async (autoSelectFamily) => {
    const seen: unknown[] = [];
    const guardedLookup = createGuardedLookup(loopback, dns);
    const lookup: net.LookupFunction = (hostname, options, callback) => {
      seen.push(options.all === true);
      guardedLookup(hostname, options, callback);
    };
    const connectTo = (host: string) =>
      new Promise<void>((resolve, reject) => {
        const socket = net.connect({ host, port: server.port, lookup, autoSelectFamily });
        socket.once('connect', () => socket.end(resolve));
        socket.once('error', reject);
      });
    await connectTo('ok.test');
    expect(server.connections).toBe(1);
    await expect(connectTo('mixed.test')).rejects.toBeInstanceOf(DestinationBlockedError);
    expect(server.connections).toBe(1);
    expect(seen).toEqual([autoSelectFamily, autoSelectFamily]);
  });
});
