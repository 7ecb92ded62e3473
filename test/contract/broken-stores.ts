import { InMemoryWebhookStore } from '../../lib/storage/in-memory.store.js';
import type {
  DeliveryFilter,
  DeliveryRecord,
  DeliveryStatus,
  EndpointFilter,
  EndpointRecord,
  PageRequest,
  QueueStats,
  RecordPage,
  Settlement,
} from '../../lib/storage/records.js';
import type { Enqueued } from '../../lib/storage/webhook-store.js';
import type { SqlDatabase, SqlQueryable } from '../../lib/storage/sql/sql.js';
import { SqlWebhookStore } from '../../lib/storage/sql/sql-webhook.store.js';

/**
 * Deliberately broken stores: each breaks one rule of the contract, the way a plausible implementation would.
 * broken-stores.spec.ts proves that the contract suite catches every one of them (and that the cases that catch them
 * pass on the real stores), so a green contract run means something.
 */

const DAY = 86_400_000;

// ---------------------------------------------------------------- in memory (each overrides one public method)

/** settle() ignores the lease token: a worker whose lease was taken over still writes its outcome. */
export class UnfencedSettleStore extends InMemoryWebhookStore {
  override async settle(settlements: Settlement[]): Promise<string[]> {
    const current = await Promise.all(settlements.map((s) => this.getDelivery(s.uid)));
    return super.settle(settlements.map((s, i) => ({ ...s, lease_token: current[i]?.lease_token ?? s.lease_token })));
  }
}

/** renew() extends a lease whoever holds it. */
export class UnfencedRenewStore extends InMemoryWebhookStore {
  override async renew(uids: string[], _token: string, until: number): Promise<string[]> {
    const held: string[] = [];
    for (const uid of uids) {
      const d = await this.getDelivery(uid);
      if (d?.lease_token) held.push(...(await super.renew([uid], d.lease_token, until)));
    }
    return held;
  }
}

/** Ordering keys are dropped when stored: a key's deliveries go out in parallel. */
export class IgnoresOrderingKeysStore extends InMemoryWebhookStore {
  override enqueue(items: Enqueued[]): Promise<boolean[]> {
    return super.enqueue(
      items.map((item) => ({ ...item, deliveries: item.deliveries.map((d) => ({ ...d, ordering_key: null })) })),
    );
  }
}

/** claim() takes deliveries that are not due yet. */
export class IgnoresDueTimeStore extends InMemoryWebhookStore {
  override claim(now: number, limit: number, token: string, until: number): Promise<DeliveryRecord[]> {
    return super.claim(now + DAY, limit, token, until);
  }
}

/** Idempotency keys are not compared: a duplicate event is delivered again. */
export class DeliversDuplicatesStore extends InMemoryWebhookStore {
  override enqueue(items: Enqueued[]): Promise<boolean[]> {
    return super.enqueue(
      items.map((item) =>
        item.event
          ? { ...item, event: { ...item.event, idempotency_key: `${item.event.idempotency_key}:${item.event.uid}` } }
          : item,
      ),
    );
  }
}

/** A transaction it cannot join is ignored: the deliveries are stored anyway. */
export class IgnoresTransactionStore extends InMemoryWebhookStore {
  override enqueue(items: Enqueued[], _tx?: SqlQueryable): Promise<boolean[]> {
    return super.enqueue(items);
  }
}

/** settle() never forgets: an accepted hand-over stays in the log. */
export class NeverForgetsStore extends InMemoryWebhookStore {
  override settle(settlements: Settlement[]): Promise<string[]> {
    return super.settle(settlements.map((s) => ({ ...s, forget: false })));
  }
}

/** A hand-over that failed for good is dropped, not kept as a dead letter. */
export class DropsFailedHandOversStore extends InMemoryWebhookStore {
  override async settle(settlements: Settlement[]): Promise<string[]> {
    const current = await Promise.all(settlements.map((s) => this.getDelivery(s.uid)));
    return super.settle(
      settlements.map((s, i) =>
        s.status === 'Failure' && current[i]?.endpoint_id === null ? { ...s, forget: true } : s,
      ),
    );
  }
}

/** reschedule() also resets deliveries a worker holds. */
export class ReschedulesLeasedStore extends InMemoryWebhookStore {
  override async reschedule(
    filter: DeliveryFilter & { uids?: string[] },
    from: DeliveryStatus[],
    now: number,
  ): Promise<string[]> {
    for (const d of (await this.listDeliveries(filter, { limit: 100_000 })).items) {
      if (d.status === 'Processing' && (!filter.uids || filter.uids.includes(d.uid)))
        Object.assign(d, { status: 'Failure', lease_token: null });
    }
    return super.reschedule(filter, from, now);
  }
}

/** deleteEndpoint() deletes its deliveries too. */
export class CascadingDeleteStore extends InMemoryWebhookStore {
  override async deleteEndpoint(uid: string): Promise<boolean> {
    const internals = this as unknown as { deliveries: Map<string, DeliveryRecord> };
    for (const d of [...internals.deliveries.values()]) if (d.endpoint_id === uid) internals.deliveries.delete(d.uid);
    return super.deleteEndpoint(uid);
  }
}

/** listDeliveries() pages oldest first. */
export class OldestFirstDeliveriesStore extends InMemoryWebhookStore {
  override async listDeliveries(filter: DeliveryFilter, page: PageRequest): Promise<RecordPage<DeliveryRecord>> {
    const all = (await super.listDeliveries(filter, { limit: 100_000 })).items.reverse();
    const from = page.cursor === undefined ? 0 : all.findIndex((d) => d.uid === page.cursor) + 1;
    const items = all.slice(from, from + page.limit);
    return { items, next_cursor: from + page.limit < all.length ? items[items.length - 1]!.uid : undefined };
  }
}

/** listDeliveries() treats createdTo as exclusive. */
export class ExclusiveCreatedToStore extends InMemoryWebhookStore {
  override listDeliveries(filter: DeliveryFilter, page: PageRequest): Promise<RecordPage<DeliveryRecord>> {
    return super.listDeliveries(
      { ...filter, ...(filter.createdTo === undefined ? {} : { createdTo: filter.createdTo - 1 }) },
      page,
    );
  }
}

/** listAttempts() sorts by uid rather than keeping the order they were recorded in. */
export class AttemptsByUidStore extends InMemoryWebhookStore {
  override async listAttempts(deliveryId: string) {
    return (await super.listAttempts(deliveryId)).sort((a, b) => (a.uid < b.uid ? -1 : 1));
  }
}

/** updateEndpoint() creates a missing endpoint. */
export class UpsertingUpdateStore extends InMemoryWebhookStore {
  override async updateEndpoint(endpoint: EndpointRecord): Promise<boolean> {
    if (!(await this.getEndpoint(endpoint.uid))) await this.insertEndpoint(endpoint);
    return super.updateEndpoint(endpoint);
  }
}

/** insertEndpoint() overwrites an endpoint that exists. */
export class OverwritingInsertEndpointStore extends InMemoryWebhookStore {
  override async insertEndpoint(endpoint: EndpointRecord): Promise<void> {
    if (await this.getEndpoint(endpoint.uid)) await super.updateEndpoint(endpoint);
    else await super.insertEndpoint(endpoint);
  }
}

/** listEndpoints() reads `q` as a LIKE pattern (`_` any character, `%` anything). */
export class LikePatternSearchStore extends InMemoryWebhookStore {
  override async listEndpoints(filter: EndpointFilter, page: PageRequest): Promise<RecordPage<EndpointRecord>> {
    if (filter.q === undefined) return super.listEndpoints(filter, page);
    const pattern = new RegExp(
      filter.q
        .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        .replaceAll('_', '.')
        .replaceAll('%', '.*'),
    );
    const all = (await super.listEndpoints({ ownerId: filter.ownerId }, { limit: 100_000 })).items.filter((e) =>
      pattern.test(e.name),
    );
    return { items: all.slice(0, page.limit), next_cursor: undefined };
  }
}

/** nextDueAt() counts finished deliveries too. */
export class NextDueCountsFinishedStore extends InMemoryWebhookStore {
  override async nextDueAt(): Promise<number | undefined> {
    const all = (await this.listDeliveries({}, { limit: 100_000 })).items.map((d) => d.next_send_at);
    return all.length === 0 ? undefined : Math.min(...all);
  }
}

/** stats() counts a claim whose lease ran out as in flight. */
export class ExpiredLeaseInFlightStore extends InMemoryWebhookStore {
  override async stats(now: number): Promise<QueueStats> {
    const real = await super.stats(now);
    const processing = (await this.listDeliveries({ statuses: ['Processing'] }, { limit: 100_000 })).items.length;
    return { ...real, inFlight: processing, pending: real.pending + real.inFlight - processing };
  }
}

// ---------------------------------------------------------------- SQL

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
    return {
      ...this.queryable(db),
      transaction: (work) => db.transaction((tx) => work(this.queryable(tx))),
      close: () => db.close(),
    };
  }
}

/** The SQL store over mutated SQL, also in the caller's transaction. */
export class MutatedSqlStore extends SqlWebhookStore {
  constructor(
    db: SqlDatabase,
    schema: string,
    private readonly mutation: Mutation,
  ) {
    super(mutation.database(db), schema);
  }

  override enqueue(items: Enqueued[], tx?: SqlQueryable): Promise<boolean[]> {
    return super.enqueue(items, tx && this.mutation.queryable(tx));
  }
}

/** Ignores the caller's transaction and writes on its own connection (commits even if the caller rolls back). */
export class OwnConnectionSqlStore extends SqlWebhookStore {
  override enqueue(items: Enqueued[]): Promise<boolean[]> {
    return super.enqueue(items);
  }
}
