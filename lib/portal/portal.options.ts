import { ConvoyConfigurationError } from '../errors/configuration.error.js';
import { normalizeMountPath } from '../ui/mount.js';
import { describeValue } from '../utils/describe-value.js';

/** Options of `ConvoyPortalModule.register()` (and what `registerAsync`'s factory returns, `path` aside). */
export interface PortalModuleOptions {
  /** Where the portal is served, e.g. `'/webhooks/portal'`. */
  path: string;
  /**
   * The key that signs portal links (HMAC-SHA256): at least 32 bytes, kept secret, the same on every instance.
   * Changing it invalidates every link and portal session.
   */
  signingKey: string | Buffer;
  /**
   * The app's public URL (with any global prefix), e.g. `'https://app.example.com'`: link() returns absolute URLs
   * under it. Without it, link() returns a path (`/webhooks/portal?token=…`) to put behind your own origin.
   */
  baseUrl?: string;
  /** Shown at the top of every page, e.g. your product's name. Default "Webhooks". */
  title?: string;
  /**
   * On the Convoy transport, link() returns Convoy's own portal link when the Convoy licence allows portal links
   * (default `true`); `false` always returns this module's portal. The embedded engine always uses this module's.
   */
  convoyPortalLinks?: boolean;
  /** What "Send a test event" publishes to the endpoint. Default `{ eventType: 'webhook.test', data: { … } }`. */
  testEvent?: { eventType: string; data: unknown } | false;
  /**
   * Form posts (create, edit, pause, test event, rotate, resend…) one customer may make per minute, counted per
   * owner in each process; past it the portal answers 429 with Retry-After. An integer from 1 to 10 000, default 30;
   * `false` for no limit (e.g. when a throttler of your own covers the portal's routes).
   */
  actionsPerMinute?: number | false;
}

/** registerAsync(): the path is needed when the module is declared (it mounts the controller); the rest may come later. */
export interface PortalModuleAsyncOptions {
  path: string;
  imports?: unknown[];
  inject?: unknown[];
  useFactory: (...args: never[]) => Omit<PortalModuleOptions, 'path'> | Promise<Omit<PortalModuleOptions, 'path'>>;
}

export interface ResolvedPortalOptions {
  /** The mount path without slashes at either end, e.g. `webhooks/portal`. */
  path: string;
  signingKey: string | Buffer;
  baseUrl: string | undefined;
  title: string;
  convoyPortalLinks: boolean;
  testEvent: { eventType: string; data: unknown } | false;
  actionsPerMinute: number | false;
}

const DEFAULT_TEST_EVENT = {
  eventType: 'webhook.test',
  data: { message: 'A test event sent from the webhook portal' },
};

const fail = (option: string, problem: string, fix: string): never => {
  throw new ConvoyConfigurationError(`portal.${option}`, problem, fix);
};

/** Checks the options when the app boots: a bad key or path stops startup, naming the option and never the key. */
export function resolvePortalOptions(path: unknown, raw: Omit<PortalModuleOptions, 'path'>): ResolvedPortalOptions {
  const options = (raw ?? {}) as Partial<PortalModuleOptions>;
  let mount = '';
  try {
    mount = normalizeMountPath(typeof path === 'string' ? path : '', 'path');
  } catch {
    fail(
      'path',
      `must be a path such as "/webhooks/portal", got ${describeValue(path)}`,
      'pass path: "/webhooks/portal"',
    );
  }
  const key = options.signingKey;
  if (typeof key !== 'string' && !Buffer.isBuffer(key))
    fail('signingKey', `is required (a string or Buffer), got ${describeValue(key)}`, KEY_FIX);
  if (Buffer.byteLength(key as string | Buffer) < 32)
    fail('signingKey', `is ${Buffer.byteLength(key as string | Buffer)} bytes; at least 32 are needed`, KEY_FIX);
  let baseUrl: string | undefined;
  if (options.baseUrl !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(String(options.baseUrl));
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.search || parsed.hash || parsed.username)
      fail(
        'baseUrl',
        `must be an http(s) URL without query, fragment or credentials, got ${describeValue(options.baseUrl)}`,
        'pass the public URL of the app, e.g. "https://app.example.com"',
      );
    baseUrl = parsed!.href.replace(/\/+$/, '');
  }
  const title = options.title ?? 'Webhooks';
  if (typeof title !== 'string' || title.trim() === '' || title.length > 100)
    fail(
      'title',
      `must be a non-empty string of at most 100 characters, got ${describeValue(title)}`,
      'pass a short name',
    );
  const testEvent = options.testEvent === undefined ? DEFAULT_TEST_EVENT : options.testEvent;
  if (testEvent !== false && (typeof testEvent?.eventType !== 'string' || testEvent.eventType === ''))
    fail('testEvent', 'must be { eventType, data } or false', "pass { eventType: 'webhook.test', data: {} }");
  const actionsPerMinute = options.actionsPerMinute ?? 30;
  if (
    actionsPerMinute !== false &&
    !(Number.isInteger(actionsPerMinute) && actionsPerMinute >= 1 && actionsPerMinute <= 10_000)
  )
    fail(
      'actionsPerMinute',
      `must be an integer from 1 to 10000, or false, got ${describeValue(actionsPerMinute)}`,
      'pass e.g. 30 (the default), or false to leave the limit to a throttler of your own',
    );
  return {
    path: mount,
    signingKey: key as string | Buffer,
    baseUrl,
    title,
    convoyPortalLinks: options.convoyPortalLinks !== false,
    testEvent,
    actionsPerMinute,
  };
}

const KEY_FIX =
  "pass 32 random bytes or more, e.g. node -e \"console.log(require('node:crypto').randomBytes(32).toString('base64'))\", from your secrets";
