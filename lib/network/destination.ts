import { promises as dns, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';
import type { AddressPolicy } from './address-policy.js';
import { DestinationBlockedError, InvalidDestinationError } from '../errors/destination.errors.js';

/** One resolved address. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a hostname to all of its addresses. Injectable for tests and custom resolvers. */
export type LookupAll = (hostname: string) => Promise<ResolvedAddress[]>;

/** The system resolver (getaddrinfo, so /etc/hosts applies), every answer, in the resolver's order. */
export const defaultLookupAll: LookupAll = async (hostname) => {
  const answers = await dns.lookup(hostname, { all: true, verbatim: true });
  return answers.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

/**
 * Parses and validates a webhook destination URL and returns it normalized by the WHATWG parser (so `0x7f.1`,
 * `2130706433` and `[::ffff:127.0.0.1]` are already 127.0.0.1 / [::ffff:7f00:1] in `hostname`).
 *
 * Refused with {@link InvalidDestinationError}: anything not an absolute `http:`/`https:` URL, a username or password,
 * port 0, and a fragment (even an empty `#`): a fragment is never sent, so it can only be a mistake or a
 * smuggled secret, and silently stripping it would store a URL the user did not write. IPv6 zone ids
 * (`[fe80::1%eth0]`) are rejected by the URL parser itself. Whether the host is allowed is not decided here but by
 * {@link checkDestination}.
 */
export function parseDestinationUrl(url: string): URL {
  if (typeof url !== 'string') throw new InvalidDestinationError('the URL must be a string');
  if (!URL.canParse(url)) throw new InvalidDestinationError('not an absolute URL (expected http://… or https://…)');
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidDestinationError(`scheme "${parsed.protocol}" is not allowed; use http: or https:`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new InvalidDestinationError('the URL must not contain credentials (user:password@); send them another way');
  }
  // `#` cannot appear in a serialized path or query (it is percent-encoded there), so this catches empty fragments too.
  if (parsed.href.includes('#')) throw new InvalidDestinationError('the URL must not contain a fragment (#…)');
  if (parsed.port === '0') throw new InvalidDestinationError('port 0 is not a valid destination port');
  return parsed;
}

/** `localhost` and `*.localhost` (RFC 6761), with or without a trailing dot: loopback by definition, never resolved. */
function isLocalhost(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.+$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

function unbracket(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

const LOCALHOST_ANSWERS: readonly ResolvedAddress[] = [
  { address: '127.0.0.1', family: 4 },
  { address: '::1', family: 6 },
];

function notFound(hostname: string): Error {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
}

/**
 * The guard's core: resolves `hostname` (an IP literal is its own answer) and returns the answers if EVERY one passes
 * the policy; else throws DestinationBlockedError for the first that fails. A DNS answer mixing a public and a
 * private address is refused as a whole, since the connection could use either.
 * `localhost` is answered locally with 127.0.0.1 and ::1; here, and only here, the answers the policy allows are kept
 * (we chose the answer set, so no attacker can mix it), so `allowedAddresses: ['127.0.0.0/8']` makes localhost work.
 * Resolver failures (ENOTFOUND, EAI_AGAIN…) propagate unchanged: they are network errors, not refusals.
 */
async function resolveChecked(
  hostname: string,
  policy: AddressPolicy,
  lookupAll: LookupAll,
  origin: string,
): Promise<ResolvedAddress[]> {
  const host = unbracket(hostname);
  const literal = isIP(host);
  if (literal) {
    const refusal = policy.check(host);
    if (refusal) throw new DestinationBlockedError(origin, refusal.address, refusal.category);
    return [{ address: host, family: literal === 6 ? 6 : 4 }];
  }
  if (isLocalhost(host)) {
    const allowed = LOCALHOST_ANSWERS.filter(({ address }) => policy.check(address) === undefined);
    if (allowed.length === 0) throw new DestinationBlockedError(origin, '127.0.0.1', 'loopback');
    return allowed.map((answer) => ({ ...answer }));
  }
  const answers = await lookupAll(host);
  if (!Array.isArray(answers) || answers.length === 0) throw notFound(host);
  const checked: ResolvedAddress[] = [];
  for (const answer of answers) {
    const address = String(answer?.address);
    const refusal = policy.check(address);
    if (refusal) throw new DestinationBlockedError(origin, refusal.address, refusal.category);
    // The family comes from the address itself, not from what the resolver claimed.
    checked.push({ address, family: isIP(address) === 6 ? 6 : 4 });
  }
  return checked;
}

/**
 * What can be decided without DNS: an IP-literal host, or `localhost`, checked against the policy (a name is left
 * to the checks at send time). publish() runs it, so a `{ url }` target the guard would refuse fails at once.
 * @throws InvalidDestinationError, DestinationBlockedError.
 */
export function checkDestinationWithoutDns(url: string, policy: Pick<AddressPolicy, 'check'>): void {
  const parsed = parseDestinationUrl(url);
  const host = unbracket(parsed.hostname);
  const candidates = isIP(host) ? [host] : isLocalhost(host) ? LOCALHOST_ANSWERS.map((a) => a.address) : [];
  const refusals = candidates.map((address) => policy.check(address));
  // localhost passes when either of its answers is allowed (as resolveChecked keeps the allowed ones).
  if (refusals.length > 0 && refusals.every((r) => r !== undefined)) {
    throw new DestinationBlockedError(parsed.origin, refusals[0]!.address, refusals[0]!.category);
  }
}

/**
 * Validates the URL and checks that its host (an IP literal, or EVERY address its name resolves to) is allowed.
 * Run it when an endpoint is created or updated (for a clear validation error) and before each send (Node never calls
 * a custom `lookup` for IP-literal hosts; the guarded agent re-checks at connect time anyway).
 * @returns the checked addresses.
 * @throws InvalidDestinationError, DestinationBlockedError, or the resolver's own error.
 */
export async function checkDestination(
  url: string | URL,
  policy: AddressPolicy,
  lookupAll: LookupAll = defaultLookupAll,
): Promise<ResolvedAddress[]> {
  // Re-validate a URL object too: it may have been built or mutated by the caller.
  const parsed = parseDestinationUrl(typeof url === 'string' ? url : String(url?.href));
  return resolveChecked(parsed.hostname, policy, lookupAll, parsed.origin);
}

function wantedFamily(family: LookupOptions['family']): 4 | 6 | undefined {
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return undefined;
}

/**
 * A `net.LookupFunction` that resolves with `lookupAll`, refuses (DestinationBlockedError, whose `origin` is just the
 * hostname here) unless every answer passes the policy, and otherwise answers with the checked addresses — so a
 * socket built with it connects only to an address checked at connect time, closing the DNS-rebinding window between
 * {@link checkDestination} and the connection. Supports `options.all` (callback(err, addresses[])) and not
 * (callback(err, address, family)), and honours `options.family` after checking every answer.
 * Note: Node does not call `lookup` for IP-literal hosts; {@link createGuardedAgent} checks those itself.
 */
export function createGuardedLookup(policy: AddressPolicy, lookupAll: LookupAll = defaultLookupAll): LookupFunction {
  return (hostname, options, callback) => {
    const family = wantedFamily(options?.family);
    resolveChecked(hostname, policy, lookupAll, hostname).then(
      (answers) => {
        const usable = family ? answers.filter((answer) => answer.family === family) : answers;
        // The callback runs outside the promise chain, so an exception in it is not swallowed as a rejection.
        process.nextTick(() => {
          if (usable.length === 0) callback(notFound(hostname), options?.all ? [] : '');
          else if (options?.all)
            callback(
              null,
              usable.map(({ address, family }): LookupAddress => ({ address, family })),
            );
          else callback(null, usable[0]!.address, usable[0]!.family);
        });
      },
      (error: unknown) => {
        const err = error instanceof Error ? error : new Error(String(error));
        process.nextTick(() => callback(err as NodeJS.ErrnoException, options?.all ? [] : ''));
      },
    );
  };
}

/** Options of {@link createGuardedAgent}. */
export interface GuardedAgentOptions {
  /** Resolver (default: the system's, via dns.lookup). */
  lookupAll?: LookupAll;
  /** Most connections per origin (default: unlimited, as undici). */
  connections?: number;
  /** How long an idle keep-alive connection is kept (undici's keepAliveTimeout; its default: 4 s). */
  keepAliveTimeoutMs?: number;
  /** TCP + TLS connect timeout (undici's connect timeout; its default: 10 s). */
  connectTimeoutMs?: number;
}

/**
 * An undici Agent (a keep-alive pool per origin) that only ever connects to addresses the policy allows:
 * IP-literal hosts are checked before connecting, names are resolved through {@link createGuardedLookup}, so the socket
 * is pinned to a checked address while `Host`, SNI and certificate checks still use the hostname. A kept-alive
 * connection was checked when it was opened. A refusal fails the request with DestinationBlockedError (carrying the
 * request's origin); no socket is opened. It never uses an HTTP(S)_PROXY from the environment (a plain Agent reads no
 * environment), and like any undici dispatcher it does not follow redirects.
 */
export function createGuardedAgent(policy: AddressPolicy, options: GuardedAgentOptions = {}): Agent {
  for (const renamed of ['keepAliveTimeout', 'connectTimeout'])
    if ((options as Record<string, unknown>)[renamed] !== undefined)
      throw new TypeError(`createGuardedAgent: options.${renamed} is now ${renamed}Ms (milliseconds, as before)`);
  const { lookupAll = defaultLookupAll, connections, keepAliveTimeoutMs, connectTimeoutMs } = options;
  const connectTls = buildConnector({
    lookup: createGuardedLookup(policy, lookupAll),
    ...(connectTimeoutMs !== undefined ? { timeout: connectTimeoutMs } : {}),
  });
  const connect: buildConnector.connector = (opts, callback) => {
    const origin = originOf(opts.protocol, opts.hostname, opts.port);
    const host = unbracket(opts.hostname);
    if (isIP(host)) {
      // Node skips `lookup` for IP literals, so check them here, before any socket exists.
      const refusal = policy.check(host);
      if (refusal) {
        queueMicrotask(() => callback(new DestinationBlockedError(origin, refusal.address, refusal.category), null));
        return;
      }
    }
    connectTls(opts, (...args) => {
      const [error] = args;
      // The lookup only knew the hostname; give the error the full origin.
      if (error instanceof DestinationBlockedError)
        callback(new DestinationBlockedError(origin, error.address, error.category), null);
      else callback(...args);
    });
  };
  return new Agent({
    connect,
    ...(connections !== undefined ? { connections } : {}),
    ...(keepAliveTimeoutMs !== undefined ? { keepAliveTimeout: keepAliveTimeoutMs } : {}),
  });
}

function originOf(protocol: string, hostname: string, port: string): string {
  const host = isIP(unbracket(hostname)) === 6 ? `[${unbracket(hostname)}]` : hostname;
  const candidate = `${protocol}//${host}${port ? `:${port}` : ''}`;
  return URL.canParse(candidate) ? new URL(candidate).origin : host;
}
