import type {
  AttemptRecord,
  DeliveryFilter,
  DeliveryRecord,
  EndpointFilter,
  EndpointRecord,
  EventRecord,
  RecordPage,
  PageRequest,
} from './embedded.types.js';
import { MinHeap } from '../utils/min-heap.js';
import type { DeliveryUpdate, WebhookStore } from './webhook-store.interface.js';

/**
 * Copies in and out, so callers never share state with the store. Hand-written for each record (they are flat
 * but for a few maps and lists): structuredClone was a tenth of the engine's CPU time in `npm run bench`.
 */
const copyEndpoint = (e: EndpointRecord): EndpointRecord => ({
  ...e,
  secrets: e.secrets.map((s) => ({ ...s })),
  event_types: [...e.event_types],
  api_key_header: e.api_key_header && { ...e.api_key_header },
});
const copyEvent = (e: EventRecord): EventRecord => ({ ...e, custom_headers: { ...e.custom_headers }, endpoints: [...e.endpoints] });
const copyDelivery = (d: DeliveryRecord): DeliveryRecord => ({ ...d, custom_headers: { ...d.custom_headers } });
const copyAttempt = (a: AttemptRecord): AttemptRecord => ({ ...a, request_headers: { ...a.request_headers }, response_headers: { ...a.response_headers } });

export interface InMemoryWebhookStoreOptions {
  /**
   * Events kept, with their deliveries and attempts (default 10 000). Beyond that the oldest events whose
   * deliveries are all final are forgotten, idempotency key included, so that memory stays bounded however long
   * the process runs. Events with a delivery still pending are always kept.
   */
  maxEvents?: number;
}

/** Evictions are looked for once per this many new events, so that a long run of pending events is not rescanned each time. */
const EVICTION_BATCH = 256;

/**
 * Everything in process memory: for tests and development. Lost when the process exits, so refused under
 * NODE_ENV=production unless `allowInMemoryStorage` is set. Returns copies, so callers never mutate stored state.
 * Keeps the newest `maxEvents` events (see InMemoryWebhookStoreOptions).
 */
export class InMemoryWebhookStore implements WebhookStore {
  readonly volatile = true;
  private readonly maxEvents: number;
  /** Each event's deliveries, to forget them together. */
  private readonly deliveriesOfEvent = new Map<string, DeliveryRecord[]>();
  private insertsSinceEviction = 0;

  constructor(options: InMemoryWebhookStoreOptions = {}) {
    const max = options.maxEvents ?? 10_000;
    if (!Number.isSafeInteger(max) || max < 1) throw new TypeError(`InMemoryWebhookStore: maxEvents must be a whole number >= 1 (got ${String(max)})`);
    this.maxEvents = max;
  }
  private readonly endpoints = new Map<string, EndpointRecord>();
  private readonly events = new Map<string, EventRecord>();
  private readonly idempotencyKeys = new Set<string>();
  private readonly deliveries = new Map<string, DeliveryRecord>();
  /** Deliveries not yet final (Scheduled, Retry, Processing): what the worker looks at, kept apart from the growing log. */
  private readonly pending = new Set<DeliveryRecord>();
  /**
   * The pending deliveries by due time. An entry goes stale when its delivery is rescheduled or finished (a new
   * entry is pushed instead), and stale entries are skipped when they reach the top.
   */
  private readonly due = new MinHeap<DeliveryRecord>();
  private readonly attempts = new Map<string, AttemptRecord[]>();

  async insertEndpoint(endpoint: EndpointRecord): Promise<void> {
    if (this.endpoints.has(endpoint.uid)) throw new Error(`endpoint ${endpoint.uid} already exists`);
    this.endpoints.set(endpoint.uid, copyEndpoint(endpoint));
  }

  async updateEndpoint(endpoint: EndpointRecord): Promise<boolean> {
    if (!this.endpoints.has(endpoint.uid)) return false;
    this.endpoints.set(endpoint.uid, copyEndpoint(endpoint));
    return true;
  }

  async deleteEndpoint(uid: string): Promise<boolean> {
    return this.endpoints.delete(uid);
  }

  async getEndpoint(uid: string): Promise<EndpointRecord | undefined> {
    const endpoint = this.endpoints.get(uid);
    return endpoint && copyEndpoint(endpoint);
  }

  async findEndpointByUrl(url: string): Promise<EndpointRecord | undefined> {
    for (const endpoint of this.endpoints.values()) if (endpoint.url === url) return copyEndpoint(endpoint);
    return undefined;
  }

  async listEndpoints(filter: EndpointFilter, page: PageRequest): Promise<RecordPage<EndpointRecord>> {
    const rows = [...this.endpoints.values()].filter(
      (e) => (filter.ownerId === undefined || e.owner_id === filter.ownerId) && (filter.q === undefined || e.name.includes(filter.q)),
    );
    return paginate(rows, page, copyEndpoint);
  }

  async allEndpoints(): Promise<EndpointRecord[]> {
    return [...this.endpoints.values()].map(copyEndpoint);
  }

  async insertEvent(event: EventRecord, deliveries: DeliveryRecord[]): Promise<boolean> {
    if (this.idempotencyKeys.has(event.idempotency_key)) {
      this.events.set(event.uid, copyEvent({ ...event, is_duplicate_event: true, endpoints: [] }));
      if (++this.insertsSinceEviction >= EVICTION_BATCH) this.evictOldEvents();
      return false;
    }
    this.idempotencyKeys.add(event.idempotency_key);
    this.events.set(event.uid, copyEvent(event));
    const stored = deliveries.map(copyDelivery);
    for (const delivery of stored) this.track(delivery);
    this.deliveriesOfEvent.set(event.uid, stored);
    if (++this.insertsSinceEviction >= EVICTION_BATCH) this.evictOldEvents();
    return true;
  }

  /** Forgets the oldest events beyond maxEvents whose deliveries are all final (events map in insertion order). */
  private evictOldEvents(): void {
    this.insertsSinceEviction = 0;
    let excess = this.events.size - this.maxEvents;
    for (const [uid, event] of this.events) {
      if (excess <= 0) break;
      const deliveries = this.deliveriesOfEvent.get(uid) ?? [];
      if (deliveries.some((d) => this.pending.has(d))) continue;
      this.events.delete(uid);
      this.deliveriesOfEvent.delete(uid);
      if (!event.is_duplicate_event) this.idempotencyKeys.delete(event.idempotency_key);
      for (const d of deliveries) {
        this.deliveries.delete(d.uid);
        this.attempts.delete(d.uid);
      }
      excess--;
    }
  }

  async getEvent(uid: string): Promise<EventRecord | undefined> {
    const event = this.events.get(uid);
    return event && copyEvent(event);
  }

  async claimDue(now: number, limit: number, owner: string, leaseUntil: number): Promise<DeliveryRecord[]> {
    // Scheduled and Retry are due at next_send_at; Processing when its lease (also next_send_at) has expired.
    const claimed: DeliveryRecord[] = [];
    while (claimed.length < limit) {
      const top = this.freshTop();
      if (!top || top.key > now) break;
      this.due.pop();
      Object.assign(top.value, { status: 'Processing', lease_owner: owner, next_send_at: leaseUntil, updated_at: new Date(now).toISOString() });
      this.due.push(leaseUntil, top.value);
      claimed.push(copyDelivery(top.value));
    }
    return claimed;
  }

  async nextDueAt(): Promise<number | undefined> {
    return this.freshTop()?.key;
  }

  /** The earliest entry that still describes its delivery; stale ones are dropped on the way. */
  private freshTop(): { key: number; value: DeliveryRecord } | undefined {
    for (;;) {
      const top = this.due.peek();
      if (!top || (this.pending.has(top.value) && top.value.next_send_at === top.key)) return top;
      this.due.pop();
    }
  }

  async completeAttempt(uid: string, owner: string, update: DeliveryUpdate, attempt: AttemptRecord | undefined): Promise<boolean> {
    const delivery = this.deliveries.get(uid);
    if (!delivery || delivery.status !== 'Processing' || delivery.lease_owner !== owner) return false;
    Object.assign(delivery, update, { lease_owner: null, updated_at: new Date().toISOString() });
    this.track(delivery);
    if (attempt) {
      const list = this.attempts.get(uid) ?? [];
      list.push(copyAttempt(attempt));
      this.attempts.set(uid, list);
    }
    return true;
  }

  async getDelivery(uid: string): Promise<DeliveryRecord | undefined> {
    const delivery = this.deliveries.get(uid);
    return delivery && copyDelivery(delivery);
  }

  async listDeliveries(filter: DeliveryFilter, page: PageRequest): Promise<RecordPage<DeliveryRecord>> {
    return paginate([...this.deliveries.values()].filter((d) => matchesDelivery(d, filter)), page, copyDelivery);
  }

  async reschedule(filter: DeliveryFilter & { uids?: string[] }, fromStatuses: DeliveryRecord['status'][], now: number): Promise<string[]> {
    const done: string[] = [];
    for (const d of this.deliveries.values()) {
      if (!fromStatuses.includes(d.status) || d.lease_owner !== null) continue;
      if (filter.uids && !filter.uids.includes(d.uid)) continue;
      if (!matchesDelivery(d, filter)) continue;
      Object.assign(d, { status: 'Scheduled', num_trials: 0, next_send_at: now, description: '', updated_at: new Date(now).toISOString() });
      this.track(d);
      done.push(d.uid);
    }
    return done;
  }

  async listAttempts(deliveryId: string): Promise<AttemptRecord[]> {
    return (this.attempts.get(deliveryId) ?? []).map(copyAttempt);
  }

  async close(): Promise<void> {}

  /** Stores a delivery and keeps the pending index in step with its status. */
  private track(delivery: DeliveryRecord): void {
    this.deliveries.set(delivery.uid, delivery);
    if (delivery.status === 'Scheduled' || delivery.status === 'Retry' || delivery.status === 'Processing') {
      this.pending.add(delivery);
      this.due.push(delivery.next_send_at, delivery);
    } else {
      this.pending.delete(delivery);
    }
  }
}

function matchesDelivery(d: DeliveryRecord, f: DeliveryFilter): boolean {
  const created = Date.parse(d.created_at);
  return (
    (!f.endpointIds?.length || f.endpointIds.includes(d.endpoint_id)) &&
    (f.eventId === undefined || d.event_id === f.eventId) &&
    (f.eventType === undefined || d.event_type === f.eventType) &&
    (f.idempotencyKey === undefined || d.idempotency_key === f.idempotencyKey) &&
    (!f.statuses?.length || f.statuses.includes(d.status)) &&
    (f.createdFrom === undefined || created >= f.createdFrom) &&
    (f.createdTo === undefined || created <= f.createdTo)
  );
}

/** Newest first by uid (UUIDv7, so by creation), continuing after `cursor`. */
function paginate<T extends { uid: string }>(rows: T[], page: PageRequest, copy: (row: T) => T): RecordPage<T> {
  const sorted = rows.sort((a, b) => (a.uid < b.uid ? 1 : -1)).filter((r) => page.cursor === undefined || r.uid < page.cursor);
  const items = sorted.slice(0, page.limit).map(copy);
  return { items, next_cursor: sorted.length > page.limit ? items[items.length - 1]!.uid : undefined };
}
