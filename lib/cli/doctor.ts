/**
 * `npx nestjs-convoy doctor`: checks, with the app's CONVOY_* settings, that publishing to Convoy will work, and
 * prints a few lines. It creates nothing and sends no webhook: every probe is a read, or a call Convoy answers
 * without storing anything (the subscription-filter test). Exit code 0 only when publishing will work.
 */
import { request } from 'undici';
import { ConvoyClient } from '../client/convoy.client.js';
import type { ConvoyProject } from '../client/convoy.types.js';
import { ConvoyConfigurationError } from '../errors/configuration.error.js';
import { ConvoyFeatureUnavailableError } from '../errors/client.errors.js';
import { DEFAULT_BASE_URL } from '../options/option-tables.js';
import { resolveClientOptions } from '../options/resolve-client-options.js';
import { authorizationSecrets, scrubSecrets } from '../utils/redact.js';

/** The environment variables doctor reads: those of the sample app and the README. */
export interface DoctorEnv {
  CONVOY_URL?: string;
  CONVOY_API_KEY?: string;
  CONVOY_USERNAME?: string;
  CONVOY_PASSWORD?: string;
  CONVOY_PROJECT_ID?: string;
}

const OK = '✓';
const FAIL = '✗';
const WARN = '!';
const INFO = '·';

/** Runs the checks, writing one line each to `print`; resolves with the exit code (0: publishing will work). */
export async function doctor(env: DoctorEnv, print: (line: string) => void, timeoutMs = 5_000): Promise<number> {
  const baseUrl = env.CONVOY_URL || DEFAULT_BASE_URL;
  const options = {
    baseUrl,
    projectId: env.CONVOY_PROJECT_ID || undefined,
    ...(env.CONVOY_API_KEY
      ? { apiKey: env.CONVOY_API_KEY }
      : { username: env.CONVOY_USERNAME || undefined, password: env.CONVOY_PASSWORD || undefined }),
    timeoutMs,
    retry: false as const,
  };
  let resolved;
  try {
    resolved = resolveClientOptions(options);
  } catch (error) {
    const message =
      error instanceof ConvoyConfigurationError ? `${error.option} ${error.problem}` : (error as Error).message;
    print(
      `${FAIL} settings: ${message} (set CONVOY_URL, CONVOY_API_KEY or CONVOY_USERNAME/CONVOY_PASSWORD, and CONVOY_PROJECT_ID)`,
    );
    return 1;
  }
  print(
    `nestjs-convoy doctor: ${baseUrl}, project ${resolved.projectId}, ${env.CONVOY_API_KEY ? 'API key' : 'basic auth'}`,
  );

  // 1. The project route, by hand: its answer says whether Convoy answers, the API version, and the key's project.
  const projectUrl = `${resolved.origin}${resolved.basePath}/v1/projects/${encodeURIComponent(resolved.projectId)}`;
  let status: number;
  let apiVersion: string;
  let body: { message?: string; data?: ConvoyProject };
  try {
    const response = await request(projectUrl, {
      headers: {
        authorization: resolved.authorization,
        accept: 'application/json',
        'x-convoy-version': resolved.apiVersion,
        'user-agent': resolved.userAgent,
      },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    status = response.statusCode;
    apiVersion = String(response.headers['x-convoy-version'] ?? '');
    // Scrubbed: a server that echoes the Authorization header back must not get the key printed.
    body = parse(scrubSecrets(await response.body.text(), authorizationSecrets(resolved.authorization)));
  } catch (error) {
    const code = (error as { code?: string }).code;
    print(
      `${FAIL} Convoy at ${baseUrl}: not reachable (${code ?? (error as Error).message}). Is it running, and is CONVOY_URL its API base (e.g. http://localhost:5005/api)?`,
    );
    return 1;
  }
  const version = await serverVersion(resolved.origin, resolved.basePath, timeoutMs);
  if (status === 404 && !apiVersion) {
    print(
      `${FAIL} ${baseUrl} answers, but not as Convoy's API (404 on ${resolved.basePath}/v1/projects/…): CONVOY_URL must be the API base, e.g. http://localhost:5005/api`,
    );
    return 1;
  }
  const pinned = apiVersion === resolved.apiVersion ? `as the client pins` : `the client pins ${resolved.apiVersion}`;
  print(`${OK} Convoy answers${version ? `: ${version}` : ''} (API version ${apiVersion || 'not sent'}, ${pinned})`);

  if (status === 401 || status === 403) {
    print(
      `${FAIL} credentials refused (${status} "${body.message ?? ''}"): check CONVOY_API_KEY (Project Settings > Secrets) or CONVOY_USERNAME/CONVOY_PASSWORD`,
    );
    return 1;
  }
  if (status === 400 && /project not found/i.test(body.message ?? '')) {
    print(
      `${FAIL} project ${resolved.projectId}: Convoy knows no such project (400 "${body.message}"); check CONVOY_PROJECT_ID`,
    );
    return 1;
  }
  if (status !== 200 || !body.data) {
    print(
      `${FAIL} GET /v1/projects/${resolved.projectId} answered ${status} "${body.message ?? ''}": Convoy cannot be used right now`,
    );
    return 1;
  }
  const project = body.data;
  if (project.uid !== resolved.projectId) {
    print(
      `${FAIL} credentials accepted, but they belong to project ${project.uid} ("${project.name}"), not ${resolved.projectId}: Convoy would publish there. Set CONVOY_PROJECT_ID=${project.uid}, or use that project's key`,
    );
    return 1;
  }
  print(`${OK} credentials accepted; they belong to project ${project.uid} ("${project.name}"), as configured`);
  if (project.type !== 'outgoing') {
    print(`${FAIL} project type: ${project.type}; webhooks are sent from outgoing projects`);
    return 1;
  }
  print(
    `${OK} project type: outgoing (retries: ${project.config.strategy.type}, ${project.config.strategy.retry_count} attempts, ${project.config.strategy.duration} s)`,
  );

  // 2. What the licence allows, and how the endpoints are set up: facts to know, not reasons to fail.
  const client = new ConvoyClient(options);
  try {
    const features = await licensedFeatures(client);
    const consequence: Record<string, string> = {
      'subscription filters': ' (every endpoint receives every event type)',
    };
    const listed = Object.entries(features)
      .map(([name, on]) => `${name} ${on}${on === 'no' ? (consequence[name] ?? '') : ''}`)
      .join(', ');
    const missing = Object.values(features).some((on) => on === 'no');
    print(`${missing ? WARN : OK} licensed features: ${listed}`);
    const unsubscribed = await endpointsWithoutSubscription(client);
    if (unsubscribed.total === 0) print(`${INFO} endpoints: none yet`);
    else if (unsubscribed.without.length === 0) print(`${OK} endpoints: all ${unsubscribed.total} have a subscription`);
    else {
      const names = unsubscribed.without
        .slice(0, 5)
        .map((e) => `${e.uid} (${e.name})`)
        .join(', ');
      print(
        `${WARN} endpoints without a subscription: ${unsubscribed.without.length} of ${unsubscribed.total}, Convoy accepts their events and delivers nothing: ${names}${unsubscribed.without.length > 5 ? ', …' : ''}`,
      );
    }
  } catch (error) {
    print(`${WARN} could not read the endpoints and features: ${(error as Error).message}`);
  } finally {
    await client.close();
  }
  print(
    `${INFO} broadcasts: a new subscription is seen after the agent's next refresh (every 10 s by default: convoy agent --interval; the API does not tell)`,
  );
  print(`${OK} Publishing will work.`);
  return 0;
}

function parse(text: string): { message?: string; data?: ConvoyProject } {
  try {
    return text ? (JSON.parse(text) as { message?: string; data?: ConvoyProject }) : {};
  } catch {
    return { message: text.trim().slice(0, 80) };
  }
}

/** Convoy's /health answers "Convoy v26.7.3"; it sits beside /api. Best effort: undefined when it does not answer. */
async function serverVersion(origin: string, basePath: string, timeoutMs: number): Promise<string | undefined> {
  try {
    const response = await request(`${origin}${basePath.replace(/\/api$/, '')}/health`, {
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await response.body.text();
    const message = (parse(text) as { message?: unknown }).message;
    return response.statusCode === 200 && typeof message === 'string' && /^Convoy /.test(message) ? message : undefined;
  } catch {
    return undefined;
  }
}

/** Probes that create nothing: a read of portal links, the filter test, a search over the last minute. */
async function licensedFeatures(client: ConvoyClient): Promise<Record<string, 'yes' | 'no'>> {
  const probe = async (call: () => Promise<unknown>): Promise<'yes' | 'no'> => {
    try {
      await call();
      return 'yes';
    } catch (error) {
      if (error instanceof ConvoyFeatureUnavailableError) return 'no';
      throw error;
    }
  };
  const now = Date.now();
  return {
    'portal links': await probe(() => client.portalLinks.list({ perPage: 1 })),
    'subscription filters': await probe(() =>
      client.subscriptions.testFilter({ schema: { body: {} }, request: { body: {} } }),
    ),
    'event search': await probe(() =>
      client.events.list({
        query: 'nestjs-convoy-doctor',
        perPage: 1,
        startDate: new Date(now - 60_000),
        endDate: new Date(now),
      }),
    ),
  };
}

async function endpointsWithoutSubscription(
  client: ConvoyClient,
): Promise<{ total: number; without: Array<{ uid: string; name: string }> }> {
  const subscribed = new Set<string>();
  for await (const subscription of client.subscriptions.iterate({ perPage: 100 }))
    if (subscription.endpoint_metadata) subscribed.add(subscription.endpoint_metadata.uid);
  const without: Array<{ uid: string; name: string }> = [];
  let total = 0;
  for await (const endpoint of client.endpoints.iterate({ perPage: 100 })) {
    total++;
    if (!subscribed.has(endpoint.uid)) without.push({ uid: endpoint.uid, name: endpoint.name });
  }
  return { total, without };
}
