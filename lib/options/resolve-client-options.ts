import { ConvoyConfigurationError } from '../errors/configuration.error.js';
import type { ConvoyClientOptions } from '../client/convoy-client.options.js';
import { join, resolveTable, type ResolvedOf } from './option-table.js';
import { CLIENT_OPTIONS } from './option-tables.js';

/** Client options after validation and defaults. `authorization` is the only field that holds a credential. */
export interface ResolvedClientOptions extends Omit<
  ResolvedOf<typeof CLIENT_OPTIONS>,
  'apiKey' | 'username' | 'password'
> {
  projectId: string;
  origin: string;
  /** Path prefix of the API, e.g. `/api`, without a trailing slash. */
  basePath: string;
  authorization: string;
}

/** True when any credential option is present (even a wrong one, so that it gets validated and reported). */
export function hasCredentials(options: ConvoyClientOptions): boolean {
  return options.apiKey !== undefined || options.username !== undefined || options.password !== undefined;
}

const SETUP = { transport: 'convoy', durable: false } as const;

/**
 * Validates client options and applies defaults; throws ConvoyConfigurationError naming the option (below `path`,
 * e.g. `convoy.apiKey` in the module) and the fix. Module-only keys (verifyProject) are left to the module.
 */
export function resolveClientOptions(options: ConvoyClientOptions, path = ''): ResolvedClientOptions {
  const { verifyProject: _, ...client } = options as ConvoyClientOptions & { verifyProject?: unknown };
  const o = resolveTable(CLIENT_OPTIONS, client, path, SETUP, () => {});
  const { apiKey, username, password, ...rest } = o;
  const at = (key: string) => join(path, key);
  if (apiKey !== undefined && (username !== undefined || password !== undefined))
    throw new ConvoyConfigurationError(
      at('apiKey'),
      'is given together with username/password, so it is unclear which to send',
      'use apiKey for Convoy Cloud and project API keys, or username and password for a self-hosted file realm, not both',
    );
  if (apiKey === undefined && (username === undefined || password === undefined))
    throw new ConvoyConfigurationError(
      at(username === undefined ? 'username' : 'password'),
      'is missing',
      'basic auth needs both username and password (or use apiKey instead)',
    );
  if (o.projectId === undefined)
    throw new ConvoyConfigurationError(
      at('projectId'),
      'is missing',
      'pass projectId, the id of your Convoy project (dashboard: Project Settings), next to the credentials',
    );
  const url = new URL(o.baseUrl);
  return {
    ...rest,
    projectId: o.projectId,
    origin: url.origin,
    basePath: url.pathname.replace(/\/+$/, ''),
    authorization:
      apiKey !== undefined ? `Bearer ${apiKey}` : `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
  };
}
