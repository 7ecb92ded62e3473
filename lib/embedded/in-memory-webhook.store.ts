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
import type { DeliveryUpdate, WebhookStore } from './webhook-store.interface.js';

const copy = <T>(value: T): T => structuredClone(value);

/**
 * Everything in process memory: for tests and development. Lost when the process exits, so refused under
 * NODE_ENV=production unless `allowInMemoryStorage` is set. Returns copies, so callers never mutate stored state.
 */
export class InMemoryWebhookStore implements WebhookStore {
  readonly volatile = true;
  private readonly endpoints = new Map<string, EndpointRecord>();
  private readonly events = new Map<string, EventRecord>();
  private readonly idempotencyKeys = new Set<string>();
  private readonly deliveries = new Map<string, DeliveryRecord>();
  private readonly attempts = new Map<string, AttemptRecord[]>();

  async insertEndpoint(endpoint: EndpointRecord): Promise<void> {
    if (this.endpoints.has(endpoint.uid)) throw new Error(`endpoint ${endpoint.uid} already exists`);
    this.endpoints.set(endpoint.uid, copy(endpoint));
  }

  async updateEndpoint(endpoint: EndpointRecord): Promise<boolean> {
    if (!this.endpoints.has(endpoint.uid)) return false;
    this.endpoints.set(endpoint.uid, copy(endpoint));
    return true;
  }

  async deleteEndpoint(uid: string): Promise<boolean> {
    return this.endpoints.delete(uid);
  }

  async getEndpoint(uid: string): Promise<EndpointRecord | undefined> {
    const endpoint = this.endpoints.get(uid);
    return endpoint && copy(endpoint);
  }

  async findEndpointByUrl(url: string): Promise<EndpointRecord | undefined> {
    for (const endpoint of this.endpoints.values()) if (endpoint.url === url) return copy(endpoint);
    return undefined;
  }

  async listEndpoints(filter: EndpointFilter, page: PageRequest): Promise<RecordPage<EndpointRecord>> {
    const rows = [...this.endpoints.values()].filter(
      (e) => (filter.ownerId === undefined || e.owner_id === filter.ownerId) && (filter.q === undefined || e.name.includes(filter.q)),
    );
    return paginate(rows, page);
  }

  async allEndpoints(): Promise<EndpointRecord[]> {
    return [...this.endpoints.values()].map(copy);
  }

  async insertEvent(event: EventRecord, deliveries: DeliveryRecord[]): Promise<boolean> {
    if (this.idempotencyKeys.has(event.idempotency_key)) {
      this.events.set(event.uid, copy({ ...event, is_duplicate_event: true, endpoints: [] }));
      return false;
    }
    this.idempotencyKeys.add(event.idempotency_key);
    this.events.set(event.uid, copy(event));
    for (const delivery of deliveries) this.deliveries.set(delivery.uid, copy(delivery));
    return true;
  }

  async getEvent(uid: string): Promise<EventRecord | undefined> {
    const event = this.events.get(uid);
    return event && copy(event);
  }

  async claimDue(now: number, limit: number, owner: string, leaseUntil: number): Promise<DeliveryRecord[]> {
    const due = [...this.deliveries.values()]
      .filter((d) => ((d.status === 'Scheduled' || d.status === 'Retry') && d.next_send_at <= now) || (d.status === 'Processing' && d.next_send_at <= now))
      .sort((a, b) => a.next_send_at - b.next_send_at || (a.uid < b.uid ? -1 : 1))
      .slice(0, limit);
    for (const d of due) Object.assign(d, { status: 'Processing', lease_owner: owner, next_send_at: leaseUntil, updated_at: new Date(now).toISOString() });
    return due.map(copy);
  }

  async nextDueAt(): Promise<number | undefined> {
    let next: number | undefined;
    for (const d of this.deliveries.values()) {
      if (d.status === 'Scheduled' || d.status === 'Retry' || d.status === 'Processing') next = next === undefined ? d.next_send_at : Math.min(next, d.next_send_at);
    }
    return next;
  }

  async completeAttempt(uid: string, owner: string, update: DeliveryUpdate, attempt: AttemptRecord | undefined): Promise<boolean> {
    const delivery = this.deliveries.get(uid);
    if (!delivery || delivery.status !== 'Processing' || delivery.lease_owner !== owner) return false;
    Object.assign(delivery, update, { lease_owner: null, updated_at: new Date().toISOString() });
    if (attempt) {
      const list = this.attempts.get(uid) ?? [];
      list.push(copy(attempt));
      this.attempts.set(uid, list);
    }
    return true;
  }

  async getDelivery(uid: string): Promise<DeliveryRecord | undefined> {
    const delivery = this.deliveries.get(uid);
    return delivery && copy(delivery);
  }

  async listDeliveries(filter: DeliveryFilter, page: PageRequest): Promise<RecordPage<DeliveryRecord>> {
    return paginate([...this.deliveries.values()].filter((d) => matchesDelivery(d, filter)), page);
  }

  async reschedule(filter: DeliveryFilter & { uids?: string[] }, fromStatuses: DeliveryRecord['status'][], now: number): Promise<string[]> {
    const done: string[] = [];
    for (const d of this.deliveries.values()) {
      if (!fromStatuses.includes(d.status) || d.lease_owner !== null) continue;
      if (filter.uids && !filter.uids.includes(d.uid)) continue;
      if (!matchesDelivery(d, filter)) continue;
      Object.assign(d, { status: 'Scheduled', num_trials: 0, next_send_at: now, description: '', updated_at: new Date(now).toISOString() });
      done.push(d.uid);
    }
    return done;
  }

  async listAttempts(deliveryId: string): Promise<AttemptRecord[]> {
    return (this.attempts.get(deliveryId) ?? []).map(copy);
  }

  async close(): Promise<void> {}
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
function paginate<T extends { uid: string }>(rows: T[], page: PageRequest): RecordPage<T> {
  const sorted = rows.sort((a, b) => (a.uid < b.uid ? 1 : -1)).filter((r) => page.cursor === undefined || r.uid < page.cursor);
  const items = sorted.slice(0, page.limit).map(copy);
  return { items, next_cursor: sorted.length > page.limit ? items[items.length - 1]!.uid : undefined };
}
