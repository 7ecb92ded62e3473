import { ConvoyError } from './convoy.error.js';

/** What the sync was doing when it failed. */
export type EventTypeSyncOperation = 'schema' | 'list' | 'create' | 'update' | 'deprecate';

/**
 * Syncing the event catalog to Convoy's event types failed (syncEventTypes(), the module's `syncEventTypes` option,
 * `npx nestjs-convoy event-types sync`). Names the event type and the step; Convoy's answer (or the catalog's
 * problem) is the reason, and the original error is the `cause`. Changes made before the failure stay made: `done`
 * lists them, and running the sync again finishes the rest.
 */
export class EventTypeSyncError extends ConvoyError {
  override readonly retryable: boolean;

  constructor(
    /** The event type at fault; undefined when listing Convoy's event types failed. */
    readonly eventType: string | undefined,
    readonly operation: EventTypeSyncOperation,
    /** Why: Convoy's answer, or what the catalog lacks. Never a credential. */
    readonly reason: string,
    /** What was changed in Convoy before the failure. */
    readonly done: { created: string[]; updated: string[]; deprecated: string[] },
    cause?: unknown,
  ) {
    const what = eventType === undefined ? 'list the event types' : `${operation} event type "${eventType}"`;
    const step = operation === 'schema' ? `Cannot sync event type "${eventType}"` : `Could not ${what} in Convoy`;
    super(`${step}: ${reason}`, cause === undefined ? undefined : { cause });
    this.retryable = (cause as { retryable?: unknown } | undefined)?.retryable === true;
  }
}
