import { Logger } from '@nestjs/common';
import type { ConvoyClient } from '../client/convoy.client.js';
import { verifyProject } from '../client/project-check.js';
import type { ConvoyRequestOptions } from '../client/convoy-client.options.js';
import type { ConvoyEventType, UpdateEventTypeRequest } from '../client/convoy.types.js';
import { ConvoyConfigurationError } from '../errors/configuration.error.js';
import { EventTypeSyncError, type EventTypeSyncOperation } from '../errors/event-type-sync.error.js';
import { backoffDelay } from '../utils/backoff.js';
import { isWebhookEventCatalog, jsonSchemaOf, type JsonSchema, type WebhookEventCatalog } from './webhook-events.js';

/** A field of a Convoy event type that the sync keeps in step with the catalog. */
export type EventTypeField = 'description' | 'category' | 'json_schema';

/** What syncEventTypes() did (or, with `dryRun`, would do), by event type name. */
export interface EventTypeSyncReport {
  /** In the catalog, not in Convoy: created. */
  created: string[];
  /** In both, with a different description, category or JSON Schema: updated. */
  updated: string[];
  /** In Convoy (and not deprecated yet), no longer in the catalog: deprecated. Event types are never deleted. */
  deprecated: string[];
  /** In both, the same: nothing sent. */
  unchanged: string[];
  /** The fields each updated event type had different. */
  changes: Record<string, EventTypeField[]>;
  /**
   * In the catalog, but deprecated in Convoy: Convoy has no route that takes a deprecation back, so they stay
   * deprecated (their fields are still synced). Publishing them still works.
   */
  deprecatedInConvoy: string[];
}

/** Options of syncEventTypes(). */
export interface EventTypeSyncOptions {
  /** Report what would change, and change nothing (only GET /event-types is sent). */
  dryRun?: boolean;
  /** Options of each call to Convoy (timeout, retry, signal). */
  request?: ConvoyRequestOptions;
}

/** Convoy's own catch-all type, made with every project: never ours to deprecate. */
const CATCH_ALL = '*';

interface Desired {
  name: string;
  description: string;
  category: string;
  json_schema: JsonSchema;
}

/**
 * Makes Convoy's event types match the catalog: creates the missing ones, updates those whose description, category
 * or JSON Schema differ, and deprecates those Convoy has that the catalog no longer names (never deletes; Convoy's "*"
 * is left alone). A second run changes nothing. Every JSON Schema is computed before anything is sent, so a catalog
 * entry without one (a Standard Schema that cannot give its JSON Schema, and no `jsonSchema`) changes nothing.
 *
 * Convoy keeps a description or category when an update sends an empty one: removing one from the catalog leaves
 * Convoy's as it is (and is not a change). Throws EventTypeSyncError naming the event type and Convoy's answer.
 */
export async function syncEventTypes(
  client: ConvoyClient,
  catalog: WebhookEventCatalog,
  options: EventTypeSyncOptions = {},
): Promise<EventTypeSyncReport> {
  if (!isWebhookEventCatalog(catalog))
    throw new ConvoyConfigurationError(
      'events',
      'is not a catalog made by defineWebhookEvents()',
      "pass defineWebhookEvents({ 'todo.created': schema, … })",
    );
  const names = Object.keys(catalog.events);
  if (names.length === 0)
    throw new ConvoyConfigurationError(
      'events',
      'has no event types: syncing it would deprecate every event type in Convoy',
      'add the event types you publish to defineWebhookEvents()',
    );
  const report: EventTypeSyncReport = {
    created: [],
    updated: [],
    deprecated: [],
    unchanged: [],
    changes: {},
    deprecatedInConvoy: [],
  };
  const fail = (eventType: string | undefined, operation: EventTypeSyncOperation, error: unknown): never => {
    if (error instanceof EventTypeSyncError) throw error;
    const reason =
      error instanceof ConvoyConfigurationError
        ? `${error.problem}. Fix: ${error.fix}`
        : error instanceof Error
          ? error.message
          : String(error);
    const done = options.dryRun
      ? { created: [], updated: [], deprecated: [] }
      : { created: report.created, updated: report.updated, deprecated: report.deprecated };
    throw new EventTypeSyncError(eventType, operation, reason, done, error);
  };

  const desired: Desired[] = names.map((name) => {
    const definition = catalog.events[name]!;
    try {
      return {
        name,
        description: definition.description ?? '',
        category: definition.category ?? '',
        // Through JSON, as Convoy stores it: what is compared is what would be sent.
        json_schema: JSON.parse(JSON.stringify(jsonSchemaOf(name, definition))) as JsonSchema,
      };
    } catch (error) {
      return fail(name, 'schema', error);
    }
  });

  let existing: ConvoyEventType[];
  try {
    existing = await client.eventTypes.list(options.request);
  } catch (error) {
    return fail(undefined, 'list', error);
  }
  const byName = new Map(existing.map((type) => [type.name, type]));

  for (const want of desired) {
    const have = byName.get(want.name);
    if (!have) {
      if (!options.dryRun) {
        try {
          await client.eventTypes.create(
            {
              name: want.name,
              ...(want.description ? { description: want.description } : {}),
              ...(want.category ? { category: want.category } : {}),
              json_schema: want.json_schema,
            },
            options.request,
          );
        } catch (error) {
          fail(want.name, 'create', error);
        }
      }
      report.created.push(want.name);
      continue;
    }
    if (have.deprecated_at) report.deprecatedInConvoy.push(want.name);
    const update: UpdateEventTypeRequest = {};
    if (want.description !== '' && want.description !== have.description) update.description = want.description;
    if (want.category !== '' && want.category !== have.category) update.category = want.category;
    if (!sameJson(want.json_schema, have.json_schema)) update.json_schema = want.json_schema;
    const fields = Object.keys(update) as EventTypeField[];
    if (fields.length === 0) {
      report.unchanged.push(want.name);
      continue;
    }
    if (!options.dryRun) {
      try {
        await client.eventTypes.update(have.uid, update, options.request);
      } catch (error) {
        fail(want.name, 'update', error);
      }
    }
    report.updated.push(want.name);
    report.changes[want.name] = fields;
  }

  const wanted = new Set(names);
  // By name, so that reports and logs read the same on every run.
  const byNameOrder = [...existing].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const have of byNameOrder) {
    if (have.name === CATCH_ALL || wanted.has(have.name) || have.deprecated_at) continue;
    if (!options.dryRun) {
      try {
        await client.eventTypes.deprecate(have.uid, options.request);
      } catch (error) {
        fail(have.name, 'deprecate', error);
      }
    }
    report.deprecated.push(have.name);
  }
  return report;
}

/** JSON equality, whatever the key order (Convoy stores the schema as jsonb, which reorders keys). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => sameJson(item, other[i]));
  }
  const left = a as Record<string, unknown>,
    right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  return keys.every((key) => Object.hasOwn(right, key) && sameJson(left[key], right[key]));
}

/** One line per change, for logs and the CLI. */
export function describeSync(report: EventTypeSyncReport, dryRun = false): string[] {
  const verb = (done: string, would: string) => (dryRun ? would : done);
  const lines = [
    ...report.created.map((name) => `${verb('created', 'would create')} ${name}`),
    ...report.updated.map(
      (name) => `${verb('updated', 'would update')} ${name} (${(report.changes[name] ?? []).join(', ')})`,
    ),
    ...report.deprecated.map((name) => `${verb('deprecated', 'would deprecate')} ${name}`),
    ...report.deprecatedInConvoy.map(
      (name) => `note: ${name} is deprecated in Convoy, which has no way to take a deprecation back`,
    ),
  ];
  const n = (xs: string[]) => xs.length;
  lines.push(
    dryRun
      ? `Dry run, nothing sent: ${n(report.created)} to create, ${n(report.updated)} to update, ${n(report.deprecated)} to deprecate, ${n(report.unchanged)} unchanged`
      : `Event types synced: ${n(report.created)} created, ${n(report.updated)} updated, ${n(report.deprecated)} deprecated, ${n(report.unchanged)} unchanged`,
  );
  return lines;
}

/**
 * The module's `syncEventTypes` at startup (Convoy transport): once before the app starts. Convoy refusing a change
 * (or a catalog entry without a JSON Schema) stops startup; an unreachable Convoy only logs a warning, and the sync
 * is tried again in the background (1 s, doubling to 5 min) until it is done; `stop()` ends it (shutdown). With
 * `verifyProject`, the project is confirmed first each time, so that nothing is written to another project.
 */
export class StartupEventTypeSync {
  private readonly logger = new Logger('ConvoyModule');
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly client: ConvoyClient,
    private readonly catalog: WebhookEventCatalog,
    private readonly settings: { verifyProject: boolean; timeoutMs: number },
  ) {}

  async run(): Promise<void> {
    try {
      await this.sync();
    } catch (error) {
      if (!isTransient(error)) throw error;
      this.logger.warn(
        `Could not sync the event types to Convoy: ${(error as Error).message}. The app starts anyway; trying again in the background.`,
      );
      this.schedule(1);
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async sync(): Promise<void> {
    if (this.settings.verifyProject) await verifyProject(this.client, this.settings.timeoutMs);
    const report = await syncEventTypes(this.client, this.catalog, {
      request: { timeoutMs: this.settings.timeoutMs },
    });
    for (const line of describeSync(report)) this.logger.log(line);
  }

  private schedule(retry: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(
      () => {
        this.sync().catch((error: unknown) => {
          if (this.stopped) return;
          if (isTransient(error)) return this.schedule(retry + 1);
          this.logger.error((error as Error).message);
        });
      },
      backoffDelay(retry, { baseDelayMs: 1_000, maxDelayMs: 300_000 }),
    );
    this.timer.unref();
  }
}

/** Convoy did not answer properly (network, timeout, 429, 5xx): try later. */
const isTransient = (error: unknown): boolean => (error as { retryable?: unknown } | null)?.retryable === true;
