import { setImmediate as yieldToOthers } from 'node:timers/promises';
import type { AttemptRecord, DeliveryFilter, DeliveryRecord, DeliveryStatus, EndpointFilter, EndpointRecord, EventRecord, PageRequest, RecordPage } from '../../lib/embedded/embedded.types.js';
import { InMemoryWebhookStore } from '../../lib/embedded/in-memory-webhook.store.js';
import type { DeliveryUpdate } from '../../lib/embedded/webhook-store.interface.js';
import { InMemoryOutboxStore } from '../../lib/outbox/in-memory-outbox.store.js';
import type { ClaimedMessage } from '../../lib/outbox/outbox-store.interface.js';
import type { DeadLetter, OutboxMessage, OutboxStats } from '../../lib/outbox/outbox.types.js';
import type { SqlDatabase, SqlQueryable } from '../../lib/storage/sql.js';
import { SqlOutboxStore } from '../../lib/storage/sql-outbox.store.js';

/**
 * Deliberately broken stores: each breaks one rule of the contract, the way a plausible implementation would.
 * broken-stores.spec.ts proves that the contract suites catch every one of them (and that the cases that catch them
 * pass on the real stores), so a green contract run means something.
 */

// ---------------------------------------------------------------- reaching into the in-memory stores

type OutboxRow = OutboxMessage & { seq: number; lease_token: string | null; lease_until: number | null };
interface OutboxInternals {
  rows: Map<string, OutboxRow>;
  dead: Map<string, DeadLetter>;
  seq: number;
}
const outboxInternals = (store: InMemoryOutboxStore): OutboxInternals => store as unknown as OutboxInternals;

interface WebhookInternals {
  endpoints: Map<string, EndpointRecord>;
  events: Map<string, EventRecord>;
  idempotencyKeys: Set<string>;
  deliveries: Map<string, DeliveryRecord>;
  attempts: Map<string, AttemptRecord[]>;
  track(delivery: DeliveryRecord): void;
}
const webhookInternals = (store: InMemoryWebhookStore): WebhookInternals => store as unknown as WebhookInternals;

function strip(row: OutboxRow): OutboxMessage {
  const { seq: _seq, lease_token: _token, lease_until: _until, ...message } = row;
  return { ...message, target: { ...message.target }, headers: { ...message.headers } };
}

// ---------------------------------------------------------------- outbox

/** Which rule a reimplemented claim() breaks. With no flaw it is the in-memory claim, and passes the contract. */
export interface ClaimFlaws {
  /** 'ignore': keys never block. 'due-heads-only': a head that is not due yet (waiting for a retry) does not block its key. */
  keys?: 'ignore' | 'due-heads-only';
  ignoreAvailableAt?: boolean;
  /** A lease never expires. */
  stickyLease?: boolean;
  /** Reads the due rows, yields, then marks them: two relays read the same rows. */
  yieldBeforeMarking?: boolean;
  noAttemptCount?: boolean;
  newestFirst?: boolean;
}

export class FlawedClaimOutboxStore extends InMemoryOutboxStore {
  constructor(private readonly flaws: ClaimFlaws) {
    super();
  }

  override async claim(now: number, limit: number, leaseToken: string, leaseUntil: number): Promise<ClaimedMessage[]> {
    const f = this.flaws;
    const rows = [...outboxInternals(this).rows.values()].sort((a, b) => a.seq - b.seq);
    const blocked = new Set<string>();
    const due: OutboxRow[] = [];
    for (const row of rows) {
      const leased = row.lease_token !== null && (f.stickyLease || (row.lease_until ?? 0) > now);
      const ready = !leased && (f.ignoreAvailableAt || row.available_at <= now);
      if (row.ordering_key !== null && f.keys !== 'ignore') {
        if (blocked.has(row.ordering_key)) continue;
        if (f.keys !== 'due-heads-only' || leased || ready) blocked.add(row.ordering_key);
      }
      if (ready) due.push(row);
    }
    const ordered = due.sort((a, b) => a.available_at - b.available_at || a.seq - b.seq);
    if (f.newestFirst) ordered.reverse();
    const claimed = ordered.slice(0, limit);
    if (f.yieldBeforeMarking) await yieldToOthers();
    for (const row of claimed) Object.assign(row, { lease_token: leaseToken, lease_until: leaseUntil, attempts: row.attempts + (f.noAttemptCount ? 0 : 1) });
    return claimed.map((row) => ({ ...strip(row), lease_token: leaseToken, lease_until: leaseUntil }));
  }
}

export class UnfencedCompleteOutboxStore extends InMemoryOutboxStore {
  override async complete(id: string): Promise<boolean> {
    return outboxInternals(this).rows.delete(id);
  }
}

export class UnfencedCompleteAllOutboxStore extends InMemoryOutboxStore {
  override async completeAll(items: Array<{ id: string; leaseToken: string }>): Promise<string[]> {
    return items.filter(({ id }) => outboxInternals(this).rows.delete(id)).map(({ id }) => id);
  }
}

/** Uses whatever token holds the message now instead of checking the caller's. */
const currentToken = (store: InMemoryOutboxStore, id: string, fallback: string): string => outboxInternals(store).rows.get(id)?.lease_token ?? fallback;

export class UnfencedRetryOutboxStore extends InMemoryOutboxStore {
  override retryLater(id: string, leaseToken: string, availableAt: number, error: string): Promise<boolean> {
    return super.retryLater(id, currentToken(this, id, leaseToken), availableAt, error);
  }
}

export class UnfencedDeadLetterOutboxStore extends InMemoryOutboxStore {
  override deadLetter(id: string, leaseToken: string, reason: string, now: number): Promise<boolean> {
    return super.deadLetter(id, currentToken(this, id, leaseToken), reason, now);
  }
}

export class OverwritingAddOutboxStore extends InMemoryOutboxStore {
  override async add(messages: OutboxMessage[], tx?: SqlQueryable): Promise<void> {
    if (tx) return super.add(messages, tx);
    const internals = outboxInternals(this);
    for (const m of messages) internals.rows.delete(m.id);
    return super.add(messages);
  }
}

export class ForgetsDeadLettersOnAddOutboxStore extends InMemoryOutboxStore {
  override async add(messages: OutboxMessage[], tx?: SqlQueryable): Promise<void> {
    if (tx) return super.add(messages, tx);
    const { dead } = outboxInternals(this);
    const saved = new Map(dead);
    dead.clear();
    try {
      await super.add(messages);
    } finally {
      for (const [id, letter] of saved) dead.set(id, letter);
    }
  }
}

/** Pretends to join a transaction: writes at once (an "autocommit" add). */
export class IgnoresTransactionOutboxStore extends InMemoryOutboxStore {
  override add(messages: OutboxMessage[]): Promise<void> {
    return super.add(messages);
  }
}

export class LosesDeadLettersOutboxStore extends InMemoryOutboxStore {
  override async deadLetter(id: string, leaseToken: string, reason: string, now: number): Promise<boolean> {
    const done = await super.deadLetter(id, leaseToken, reason, now);
    outboxInternals(this).dead.delete(id);
    return done;
  }
}

/** Requeues with the old attempts and the old position (seq). */
export class StaleRequeueOutboxStore extends InMemoryOutboxStore {
  private readonly firstSeq = new Map<string, number>();

  override async add(messages: OutboxMessage[], tx?: SqlQueryable): Promise<void> {
    await super.add(messages, tx);
    for (const m of messages) if (!this.firstSeq.has(m.id)) this.firstSeq.set(m.id, outboxInternals(this).rows.get(m.id)?.seq ?? -1);
  }

  override async requeue(ids: string[], now: number): Promise<number> {
    const { dead, rows } = outboxInternals(this);
    const attempts = new Map(ids.map((id) => [id, dead.get(id)?.attempts ?? 0]));
    const moved = await super.requeue(ids, now);
    for (const id of ids) {
      const row = rows.get(id);
      if (row) Object.assign(row, { attempts: attempts.get(id), seq: this.firstSeq.get(id) ?? row.seq });
    }
    return moved;
  }
}

export class OldestFirstDeadLettersOutboxStore extends InMemoryOutboxStore {
  override async listDeadLetters(page: PageRequest): Promise<RecordPage<DeadLetter>> {
    const all = [...outboxInternals(this).dead.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).filter((d) => page.cursor === undefined || d.id > page.cursor);
    const items = all.slice(0, page.limit);
    return { items, next_cursor: all.length > page.limit ? items[items.length - 1]!.id : undefined };
  }
}

export class ExpiredLeaseInFlightOutboxStore extends InMemoryOutboxStore {
  override async stats(now: number): Promise<OutboxStats> {
    const { rows, dead } = outboxInternals(this);
    const all = [...rows.values()];
    const inFlight = all.filter((r) => r.lease_token !== null).length;
    const oldest = Math.min(...all.map((r) => r.created_at));
    return { pending: all.length - inFlight, inFlight, lagMs: all.length ? now - oldest : 0, deadLetters: dead.size };
  }
}

// ---------------------------------------------------------------- webhooks

export interface ClaimDueFlaws {
  yieldBeforeMarking?: boolean;
  ignoreNextSendAt?: boolean;
  /** Processing deliveries are never taken over, even when their lease expired. */
  stickyLease?: boolean;
}

/** claimDue() reimplemented over the store's map; with no flaw it passes the contract. */
export class FlawedClaimDueWebhookStore extends InMemoryWebhookStore {
  constructor(private readonly flaws: ClaimDueFlaws) {
    super();
  }

  override async claimDue(now: number, limit: number, owner: string, leaseUntil: number): Promise<DeliveryRecord[]> {
    const f = this.flaws;
    const internals = webhookInternals(this);
    const due = [...internals.deliveries.values()]
      .filter((d) => (d.status === 'Scheduled' || d.status === 'Retry' || (d.status === 'Processing' && !f.stickyLease)) && (f.ignoreNextSendAt || d.next_send_at <= now))
      .sort((a, b) => a.next_send_at - b.next_send_at || (a.uid < b.uid ? -1 : 1))
      .slice(0, limit);
    if (f.yieldBeforeMarking) await yieldToOthers();
    for (const d of due) {
      Object.assign(d, { status: 'Processing', lease_owner: owner, next_send_at: leaseUntil, updated_at: new Date(now).toISOString() });
      internals.track(d);
    }
    return due.map((d) => ({ ...d, custom_headers: { ...d.custom_headers } }));
  }
}

export class DuplicatesDeliveredWebhookStore extends InMemoryWebhookStore {
  override insertEvent(event: EventRecord, deliveries: DeliveryRecord[]): Promise<boolean> {
    webhookInternals(this).idempotencyKeys.clear();
    return super.insertEvent(event, deliveries);
  }
}

export class UnfencedCompleteAttemptWebhookStore extends InMemoryWebhookStore {
  override completeAttempt(uid: string, owner: string, update: DeliveryUpdate, attempt: AttemptRecord | undefined): Promise<boolean> {
    return super.completeAttempt(uid, webhookInternals(this).deliveries.get(uid)?.lease_owner ?? owner, update, attempt);
  }
}

/** Not atomic: the attempt is written even when the state update was refused. */
export class AttemptWithoutLeaseWebhookStore extends InMemoryWebhookStore {
  override async completeAttempt(uid: string, owner: string, update: DeliveryUpdate, attempt: AttemptRecord | undefined): Promise<boolean> {
    const kept = await super.completeAttempt(uid, owner, update, attempt);
    if (!kept && attempt && webhookInternals(this).deliveries.has(uid)) {
      const { attempts } = webhookInternals(this);
      attempts.set(uid, [...(attempts.get(uid) ?? []), { ...attempt }]);
    }
    return kept;
  }
}

export class ReschedulesLeasedWebhookStore extends InMemoryWebhookStore {
  override async reschedule(filter: DeliveryFilter & { uids?: string[] }, fromStatuses: DeliveryStatus[], now: number): Promise<string[]> {
    const held = [...webhookInternals(this).deliveries.values()].filter((d) => d.lease_owner !== null).map((d) => [d, d.lease_owner] as const);
    for (const [d] of held) d.lease_owner = null;
    const done = await super.reschedule(filter, fromStatuses, now);
    for (const [d, owner] of held) if (!done.includes(d.uid)) d.lease_owner = owner;
    return done;
  }
}

export class CascadingDeleteWebhookStore extends InMemoryWebhookStore {
  override async deleteEndpoint(uid: string): Promise<boolean> {
    const internals = webhookInternals(this);
    for (const d of [...internals.deliveries.values()]) {
      if (d.endpoint_id !== uid) continue;
      internals.deliveries.delete(d.uid);
      internals.attempts.delete(d.uid);
    }
    return super.deleteEndpoint(uid);
  }
}

export class OldestFirstDeliveriesWebhookStore extends InMemoryWebhookStore {
  override async listDeliveries(filter: DeliveryFilter, page: PageRequest): Promise<RecordPage<DeliveryRecord>> {
    const all = (await super.listDeliveries(filter, { limit: Number.MAX_SAFE_INTEGER })).items.reverse().filter((d) => page.cursor === undefined || d.uid > page.cursor);
    const items = all.slice(0, page.limit);
    return { items, next_cursor: all.length > page.limit ? items[items.length - 1]!.uid : undefined };
  }
}

export class ExclusiveCreatedToWebhookStore extends InMemoryWebhookStore {
  override listDeliveries(filter: DeliveryFilter, page: PageRequest): Promise<RecordPage<DeliveryRecord>> {
    return super.listDeliveries(filter.createdTo === undefined ? filter : { ...filter, createdTo: filter.createdTo - 1 }, page);
  }
}

export class AttemptsByUidWebhookStore extends InMemoryWebhookStore {
  override async listAttempts(deliveryId: string): Promise<AttemptRecord[]> {
    return (await super.listAttempts(deliveryId)).sort((a, b) => (a.uid < b.uid ? -1 : 1));
  }
}

export class UpsertingUpdateWebhookStore extends InMemoryWebhookStore {
  override async updateEndpoint(endpoint: EndpointRecord): Promise<boolean> {
    if (!(await super.updateEndpoint(endpoint))) await this.insertEndpoint(endpoint);
    return true;
  }
}

export class OverwritingInsertEndpointWebhookStore extends InMemoryWebhookStore {
  override async insertEndpoint(endpoint: EndpointRecord): Promise<void> {
    if (!(await this.updateEndpoint(endpoint))) await super.insertEndpoint(endpoint);
  }
}

/** Treats the search text as a LIKE pattern (`%` and `_` as wildcards), as a naive `name LIKE '%' || q || '%'` does. */
export class LikePatternSearchWebhookStore extends InMemoryWebhookStore {
  override async listEndpoints(filter: EndpointFilter, page: PageRequest): Promise<RecordPage<EndpointRecord>> {
    if (filter.q === undefined) return super.listEndpoints(filter, page);
    const pattern = new RegExp(filter.q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.'));
    const all = (await super.listEndpoints({ ownerId: filter.ownerId }, { limit: Number.MAX_SAFE_INTEGER })).items.filter((e) => pattern.test(e.name));
    const after = all.filter((e) => page.cursor === undefined || e.uid < page.cursor);
    const items = after.slice(0, page.limit);
    return { items, next_cursor: after.length > page.limit ? items[items.length - 1]!.uid : undefined };
  }
}

export class NextDueCountsFinishedWebhookStore extends InMemoryWebhookStore {
  override async nextDueAt(): Promise<number | undefined> {
    const all = [...webhookInternals(this).deliveries.values()].map((d) => d.next_send_at);
    return all.length ? Math.min(...all) : undefined;
  }
}

// ---------------------------------------------------------------- SQL: the real stores over mutated SQL

/**
 * A database whose statements are rewritten before they run: the real SQL store with one clause removed (a fence,
 * a lock, SKIP LOCKED). `hits` counts rewrites, so a spec can check that the mutation really applied.
 */
export class Mutation {
  hits = 0;
  constructor(private readonly mutate: (sql: string) => string) {}

  /** `q` with its statements rewritten. */
  queryable(q: SqlQueryable): SqlQueryable {
    return {
      query: (text, params) => {
        const changed = this.mutate(text);
        if (changed !== text) this.hits++;
        return q.query(changed, params);
      },
    };
  }

  database(db: SqlDatabase): SqlDatabase {
    return { ...this.queryable(db), transaction: (work) => db.transaction((tx) => work(this.queryable(tx))), close: () => db.close() };
  }
}

/** SqlOutboxStore over mutated SQL, also in the caller's transaction. */
export class MutatedSqlOutboxStore extends SqlOutboxStore {
  constructor(
    db: SqlDatabase,
    schema: string,
    private readonly mutation: Mutation,
  ) {
    super(mutation.database(db), schema);
  }

  override add(messages: OutboxMessage[], tx?: SqlQueryable): Promise<void> {
    return super.add(messages, tx && this.mutation.queryable(tx));
  }
}

/** Ignores the caller's transaction and writes on its own connection (commits even if the caller rolls back). */
export class OwnConnectionSqlOutboxStore extends SqlOutboxStore {
  override add(messages: OutboxMessage[]): Promise<void> {
    return super.add(messages);
  }
}
