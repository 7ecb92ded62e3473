import { PublishBufferFullError, PublisherClosedError } from '../errors/publish.errors.js';
import type { SqlQueryable } from './sql/sql.js';
import { MinHeap } from '../utils/min-heap.js';
import type {
  AttemptRecord,
  DeliveryFilter,
  DeliveryRecord,
  DeliveryStatus,
  EndpointFilter,
  EndpointRecord,
  EventRecord,
  PageRequest,
  QueueStats,
  RecordPage,
  Settlement,
} from './records.js';
import type { Enqueued, WebhookStore } from './webhook-store.js';

/** Bounds of the in-memory store. */
export interface InMemoryWebhookStoreOptions {
  /**
   * Unfinished deliveries held at most (waiting, in flight, between retries). When full, enqueue() waits for room
   * (`whenFull: 'wait'`, backpressure) or throws PublishBufferFullError (`'reject'`). Default 10 000.
   */
  capacity?: number;
  whenFull?: 'wait' | 'reject';
  /**
   * Events kept in the log, each with its deliveries and attempts (default 10 000). Beyond that the events whose
   * deliveries finished longest ago are forgotten, idempotency key included, so that memory stays bounded however
   * long the process runs; unfinished work is always kept.
   */
  maxEvents?: number;
}

/** An event in the log: a fan-out (with its event record) or a hand-over (its one delivery). */
interface Entry {
  id: string;
  event?: EventRecord;
  deliveries: DeliveryRecord[];
  /** How many of `deliveries` are unfinished: at 0 the entry may be forgotten. */
  open: number;
  /** When its deliveries were last all finished (a sequence number; 0 while some are not, or once forgotten). */
  finishedSeq: number;
}

const isUnfinished = (status: DeliveryStatus): boolean =>
  status === 'Scheduled' || status === 'Retry' || status === 'Processing';
/** Deliveries that must go one at a time: the same ordering key to the same endpoint (or transport). */
const chainOf = (d: DeliveryRecord): string | undefined =>
  d.ordering_key === null ? undefined : `${d.endpoint_id ?? ''}\u0000${d.ordering_key}`;

/**
 * Everything in process memory: the pipeline without storage, and tests. Lost when the process exits. Bounded twice:
 * `capacity` unfinished deliveries (backpressure on publish()), `maxEvents` events in the log.
 *
 * It keeps the records it is given and hands out its own (no copies: this is the hot path of every publish without
 * storage); a delivery claimed is changed in place when it is settled.
 */
export class InMemoryWebhookStore implements WebhookStore {
  readonly volatile = true;
  private readonly capacity: number;
  private readonly whenFull: 'wait' | 'reject';
  private readonly maxEvents: number;
  private readonly endpoints = new Map<string, EndpointRecord>();
  /** allEndpoints(), kept until an endpoint changes (fan-out reads it on every publish). */
  private endpointList: Promise<EndpointRecord[]> | undefined;
  /** getEndpoint()'s answers, until the endpoint changes. */
  private readonly endpointReads = new Map<string, Promise<EndpointRecord | undefined>>();
  private readonly deliveries = new Map<string, DeliveryRecord>();
  /** A delivery's attempts: the one record itself until there is a second (most deliveries make one attempt). */
  private readonly attempts = new Map<string, AttemptRecord | AttemptRecord[]>();
  /** The log in insertion order, by event id. */
  private readonly entries = new Map<string, Entry>();
  /**
   * The entries whose deliveries all finished, in the order they finished, with that moment's finishedSeq beside
   * each: retention forgets from the front, without walking past the unfinished ones (a backlog of those can be the
   * whole log). An entry reopened (resent) or forgotten meanwhile has another finishedSeq and is skipped. Arrays with
   * a head index, not a Set: a Set emptied from its front is walked over its deleted slots on every eviction.
   * A slot is emptied as the head passes it, so that a forgotten event can be collected at once.
   */
  private finishedQueue: Array<Entry | undefined> = [];
  private finishedSeqs: number[] = [];
  private finishedHead = 0;
  private finishedCount = 0;
  private readonly idempotencyKeys = new Set<string>();
  /** Unfinished deliveries by due time. An entry goes stale when its delivery changes (a new one is pushed); stale ones are skipped. */
  private readonly due = new MinHeap<DeliveryRecord>();
  /** Ordering chains: the unfinished deliveries of a key, in order; only the first is in `due`. */
  private readonly chains = new Map<string, DeliveryRecord[]>();
  private unfinished = 0;
  /**
   * Claimed and not settled, with a lease that has not been seen to run out. Leases are kept out of `due` (an entry
   * per claim would mostly go stale): claim() looks here for ones that ran out once the earliest may have.
   */
  private readonly processing = new Set<DeliveryRecord>();
  /** No lease in `processing` ends before this (a lower bound: renewals only extend). */
  private leaseCheckAt = Infinity;
  private pendingHandOvers = 0;
  private failedHandOvers = 0;
  private roomWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private closed = false;

  constructor(options: InMemoryWebhookStoreOptions = {}) {
    this.capacity = positive('capacity', options.capacity ?? 10_000);
    this.maxEvents = positive('maxEvents', options.maxEvents ?? 10_000);
    this.whenFull = options.whenFull ?? 'wait';
  }

  async enqueue(items: Enqueued[], tx?: SqlQueryable): Promise<boolean[]> {
    if (tx)
      throw new TypeError(
        'The in-memory store cannot join a database transaction; use the PostgreSQL or PGlite storage',
      );
    const stored = new Array<boolean>(items.length); // exact length: most calls store one item
    for (let at = 0; at < items.length; at++) {
      const item = items[at]!;
      const { event } = item;
      if (this.unfinished > 0 && this.unfinished + item.deliveries.length > this.capacity)
        await this.room(item.deliveries.length);
      // After any wait for room: another enqueue may have taken the key meanwhile.
      if (event && this.idempotencyKeys.has(event.idempotency_key)) {
        event.is_duplicate_event = true;
        event.endpoints = [];
        this.remember({ id: event.uid, event, deliveries: [], open: 0, finishedSeq: 0 });
        stored[at] = false;
        continue;
      }
      if (event) this.idempotencyKeys.add(event.idempotency_key);
      // A uid that exists is skipped (a retried publish); the list is copied only then, as it is rare.
      let deliveries = item.deliveries;
      let open = 0;
      for (let i = 0; i < item.deliveries.length; i++) {
        const delivery = item.deliveries[i]!;
        if (this.deliveries.has(delivery.uid)) {
          if (deliveries === item.deliveries) deliveries = item.deliveries.slice(0, i);
          continue;
        }
        if (deliveries !== item.deliveries) deliveries.push(delivery);
        this.deliveries.set(delivery.uid, delivery);
        // Planned as finished (Discarded: an inactive endpoint's) is logged, never queued.
        if (!isUnfinished(delivery.status)) continue;
        open++;
        this.unfinished++;
        if (delivery.endpoint_id === null) this.pendingHandOvers++;
        this.schedule(delivery);
      }
      const eventId = event?.uid ?? deliveries[0]?.event_id;
      if (eventId !== undefined) this.remember({ id: eventId, event, deliveries, open, finishedSeq: 0 });
      stored[at] = true;
    }
    return stored;
  }

  async claim(now: number, limit: number, leaseToken: string, leaseUntil: number): Promise<DeliveryRecord[]> {
    const claimed: DeliveryRecord[] = [];
    if (now >= this.leaseCheckAt) this.releaseExpiredLeases(now);
    while (claimed.length < limit) {
      const d = this.freshTop();
      if (!d || d.next_send_at > now) break;
      this.due.removeTop();
      this.processing.add(d);
      d.status = 'Processing';
      d.lease_token = leaseToken;
      d.next_send_at = leaseUntil;
      d.updated_at = now;
      claimed.push(d);
    }
    if (claimed.length > 0 && leaseUntil < this.leaseCheckAt) this.leaseCheckAt = leaseUntil;
    return claimed;
  }

  async renew(uids: string[], leaseToken: string, leaseUntil: number): Promise<string[]> {
    const held: string[] = [];
    for (const uid of uids) {
      const d = this.deliveries.get(uid);
      if (!d || d.status !== 'Processing' || d.lease_token !== leaseToken) continue;
      d.next_send_at = leaseUntil;
      this.processing.add(d); // back from the due heap if its lease had been seen to run out
      if (leaseUntil < this.leaseCheckAt) this.leaseCheckAt = leaseUntil;
      held.push(uid);
    }
    return held;
  }

  async settle(settlements: Settlement[]): Promise<string[]> {
    const done: string[] = [];
    const now = Date.now();
    for (const s of settlements) {
      const d = this.deliveries.get(s.uid);
      if (!d || d.status !== 'Processing' || d.lease_token !== s.lease_token) continue;
      this.processing.delete(d);
      d.status = s.status;
      d.description = s.description;
      d.num_trials = s.num_trials;
      d.next_send_at = s.next_send_at;
      d.latency_ms = s.latency_ms;
      d.lease_token = null;
      d.updated_at = now;
      if (s.attempt) {
        const logged = this.attempts.get(d.uid);
        if (logged === undefined) this.attempts.set(d.uid, s.attempt);
        else if (Array.isArray(logged)) logged.push(s.attempt);
        else this.attempts.set(d.uid, [logged, s.attempt]);
      }
      if (isUnfinished(d.status)) this.schedule(d);
      else this.finished(d, s.forget === true);
      done.push(s.uid);
    }
    return done;
  }

  async nextDueAt(): Promise<number | undefined> {
    let next = this.freshTop()?.next_send_at;
    for (const d of this.processing) if (next === undefined || d.next_send_at < next) next = d.next_send_at;
    return next;
  }

  async stats(now: number): Promise<QueueStats> {
    let oldest = now;
    // The log is in insertion (publish) order: the first unfinished delivery found is taken as the oldest.
    search: for (const entry of this.entries.values()) {
      if (entry.open === 0) continue;
      for (const d of entry.deliveries) {
        if (isUnfinished(d.status)) {
          oldest = d.created_at;
          break search;
        }
      }
    }
    let inFlight = 0;
    for (const d of this.processing) if (d.next_send_at > now) inFlight++;
    return {
      pending: this.unfinished - inFlight,
      inFlight,
      lagMs: now - oldest,
      pendingHandOvers: this.pendingHandOvers,
      failedHandOvers: this.failedHandOvers,
    };
  }

  async reschedule(
    filter: DeliveryFilter & { uids?: string[] },
    fromStatuses: DeliveryStatus[],
    now: number,
  ): Promise<string[]> {
    const done: string[] = [];
    const candidates = filter.uids
      ? filter.uids.map((uid) => this.deliveries.get(uid)).filter((d): d is DeliveryRecord => d !== undefined)
      : [...this.deliveries.values()];
    for (const d of candidates) {
      if (!fromStatuses.includes(d.status) || d.lease_token !== null || !matches(d, filter)) continue;
      if (!isUnfinished(d.status)) {
        if (d.endpoint_id === null && d.status === 'Failure') this.failedHandOvers--;
        if (d.endpoint_id === null) this.pendingHandOvers++;
        this.unfinished++;
        const entry = this.entries.get(d.event_id);
        if (entry && entry.open++ === 0) entry.finishedSeq = 0;
      }
      Object.assign(d, { status: 'Scheduled', num_trials: 0, next_send_at: now, description: '', updated_at: now });
      this.schedule(d);
      done.push(d.uid);
    }
    return done;
  }

  async getDelivery(uid: string): Promise<DeliveryRecord | undefined> {
    return this.deliveries.get(uid);
  }

  async listDeliveries(filter: DeliveryFilter, page: PageRequest): Promise<RecordPage<DeliveryRecord>> {
    return paginate(
      [...this.deliveries.values()].filter((d) => matches(d, filter)),
      page,
    );
  }

  async listAttempts(deliveryId: string): Promise<AttemptRecord[]> {
    const logged = this.attempts.get(deliveryId);
    return logged === undefined ? [] : Array.isArray(logged) ? [...logged] : [logged];
  }

  async getEvent(uid: string): Promise<EventRecord | undefined> {
    return this.entries.get(uid)?.event;
  }

  async insertEndpoint(endpoint: EndpointRecord): Promise<void> {
    if (this.endpoints.has(endpoint.uid)) throw new Error(`endpoint ${endpoint.uid} already exists`);
    this.endpoints.set(endpoint.uid, endpoint);
    this.endpointList = undefined;
  }

  async updateEndpoint(endpoint: EndpointRecord): Promise<boolean> {
    if (!this.endpoints.has(endpoint.uid)) return false;
    this.endpoints.set(endpoint.uid, endpoint);
    this.endpointList = undefined;
    this.endpointReads.delete(endpoint.uid);
    return true;
  }

  async deleteEndpoint(uid: string): Promise<boolean> {
    this.endpointList = undefined;
    this.endpointReads.delete(uid);
    return this.endpoints.delete(uid);
  }

  /** A settled promise kept per endpoint until it changes: every attempt reads its endpoint. */
  getEndpoint(uid: string): Promise<EndpointRecord | undefined> {
    let found = this.endpointReads.get(uid);
    if (!found) {
      const endpoint = this.endpoints.get(uid);
      found = Promise.resolve(endpoint);
      if (endpoint) this.endpointReads.set(uid, found);
    }
    return found;
  }

  async findEndpointByUrlAndName(url: string, name: string): Promise<EndpointRecord | undefined> {
    for (const endpoint of this.endpoints.values()) if (endpoint.url === url && endpoint.name === name) return endpoint;
    return undefined;
  }

  async listEndpoints(filter: EndpointFilter, page: PageRequest): Promise<RecordPage<EndpointRecord>> {
    const rows = [...this.endpoints.values()].filter(
      (e) =>
        (filter.ownerId === undefined || e.owner_id === filter.ownerId) &&
        (filter.q === undefined || e.name.includes(filter.q)),
    );
    return paginate(rows, page);
  }

  /** The same settled promise until an endpoint changes: fan-out awaits it on every publish. */
  allEndpoints(): Promise<EndpointRecord[]> {
    this.endpointList ??= Promise.resolve([...this.endpoints.values()]);
    return this.endpointList;
  }

  /** Refuses publishes waiting for room: whatever is held now is all there will be. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.roomWaiters.splice(0)) waiter.reject(new PublisherClosedError());
  }

  /** Waits until `count` more unfinished deliveries fit (or throws, per whenFull). A batch larger than the capacity waits for an empty store. */
  private async room(count: number): Promise<void> {
    while (this.unfinished > 0 && this.unfinished + count > this.capacity) {
      if (this.closed) throw new PublisherClosedError();
      if (this.whenFull === 'reject') throw new PublishBufferFullError(this.capacity);
      await new Promise<void>((resolve, reject) => this.roomWaiters.push({ resolve, reject }));
    }
  }

  /** Into the due heap, or behind the unfinished deliveries of its ordering chain. */
  private schedule(d: DeliveryRecord): void {
    const chain = chainOf(d);
    if (chain !== undefined) {
      const queue = this.chains.get(chain);
      if (!queue) this.chains.set(chain, [d]);
      else if (!queue.includes(d))
        return void queue.push(d); // not the head: it waits for the ones before it
      else if (queue[0] !== d) return;
    }
    this.due.push(d.next_send_at, d);
  }

  private finished(d: DeliveryRecord, forget: boolean): void {
    this.unfinished--;
    if (d.endpoint_id === null) this.pendingHandOvers--;
    if (d.endpoint_id === null && d.status === 'Failure' && !forget) this.failedHandOvers++;
    const chain = chainOf(d);
    if (chain !== undefined) {
      const queue = this.chains.get(chain)!;
      queue.splice(queue.indexOf(d), 1);
      if (queue.length === 0) this.chains.delete(chain);
      else this.due.push(queue[0]!.next_send_at, queue[0]!);
    }
    const entry = this.entries.get(d.event_id);
    let kept = entry !== undefined && --entry.open === 0;
    if (forget) {
      this.deliveries.delete(d.uid);
      this.attempts.delete(d.uid);
      if (entry) {
        entry.deliveries.splice(entry.deliveries.indexOf(d), 1);
        if (!entry.event && entry.deliveries.length === 0) {
          this.entries.delete(d.event_id);
          kept = false; // nothing left to log: not queued for retention either
        }
      }
    }
    if (kept) this.markFinished(entry!);
    const waiter = this.roomWaiters.shift();
    waiter?.resolve();
  }

  /** Claimed deliveries whose lease ran out become due (at their lease's end), for another claim to take over. */
  private releaseExpiredLeases(now: number): void {
    let earliest = Infinity;
    for (const d of this.processing) {
      if (d.next_send_at <= now) {
        this.processing.delete(d);
        this.due.push(d.next_send_at, d);
      } else if (d.next_send_at < earliest) earliest = d.next_send_at;
    }
    this.leaseCheckAt = earliest;
  }

  /** The earliest delivery whose entry still describes it (due at its next_send_at); stale ones are dropped on the way. */
  private freshTop(): DeliveryRecord | undefined {
    for (;;) {
      const top = this.due.topValue();
      if (!top || (isUnfinished(top.status) && top.next_send_at === this.due.topKey() && this.isChainHead(top)))
        return top;
      this.due.removeTop();
    }
  }

  private isChainHead(d: DeliveryRecord): boolean {
    const chain = chainOf(d);
    return chain === undefined || this.chains.get(chain)?.[0] === d;
  }

  private remember(entry: Entry): void {
    this.entries.set(entry.id, entry);
    if (entry.open === 0) this.markFinished(entry);
    if (this.entries.size > this.maxEvents) this.evictOldEntries();
  }

  private markFinished(entry: Entry): void {
    entry.finishedSeq = ++this.finishedCount;
    this.finishedQueue.push(entry);
    this.finishedSeqs.push(entry.finishedSeq);
  }

  /** Forgets the events beyond maxEvents that finished longest ago; unfinished ones are kept, however old. */
  private evictOldEntries(): void {
    let excess = this.entries.size - this.maxEvents;
    while (excess > 0 && this.finishedHead < this.finishedQueue.length) {
      const entry = this.finishedQueue[this.finishedHead]!;
      const current = entry.finishedSeq === this.finishedSeqs[this.finishedHead];
      this.finishedQueue[this.finishedHead++] = undefined;
      if (!current) continue; // reopened or forgotten since it was queued
      excess--;
      entry.finishedSeq = 0;
      this.entries.delete(entry.id);
      if (entry.event && !entry.event.is_duplicate_event) this.idempotencyKeys.delete(entry.event.idempotency_key);
      for (const d of entry.deliveries) {
        if (d.endpoint_id === null && d.status === 'Failure') this.failedHandOvers--;
        this.deliveries.delete(d.uid);
        this.attempts.delete(d.uid);
      }
    }
    // The consumed front is dropped once it is most of the arrays (amortised: a copy per that many evictions).
    if (this.finishedHead > 1024 && this.finishedHead * 2 > this.finishedQueue.length) {
      this.finishedQueue = this.finishedQueue.slice(this.finishedHead);
      this.finishedSeqs = this.finishedSeqs.slice(this.finishedHead);
      this.finishedHead = 0;
    }
  }
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new TypeError(`InMemoryWebhookStore: ${name} must be a whole number >= 1 (got ${String(value)})`);
  return value;
}

function matches(d: DeliveryRecord, f: DeliveryFilter): boolean {
  return (
    (!f.endpointIds?.length || (d.endpoint_id !== null && f.endpointIds.includes(d.endpoint_id))) &&
    (f.handOver === undefined || f.handOver === (d.endpoint_id === null)) &&
    (f.eventId === undefined || d.event_id === f.eventId) &&
    (f.eventType === undefined || d.event_type === f.eventType) &&
    (f.idempotencyKey === undefined || d.idempotency_key === f.idempotencyKey) &&
    (!f.statuses?.length || f.statuses.includes(d.status)) &&
    (f.createdFrom === undefined || d.created_at >= f.createdFrom) &&
    (f.createdTo === undefined || d.created_at <= f.createdTo)
  );
}

/** Newest first by uid (UUIDv7, so by creation), continuing after `cursor`. */
function paginate<T extends { uid: string }>(rows: T[], page: PageRequest): RecordPage<T> {
  const sorted = rows
    .sort((a, b) => (a.uid < b.uid ? 1 : -1))
    .filter((r) => page.cursor === undefined || r.uid < page.cursor);
  const items = sorted.slice(0, page.limit);
  return { items, next_cursor: sorted.length > page.limit ? items[items.length - 1]!.uid : undefined };
}
