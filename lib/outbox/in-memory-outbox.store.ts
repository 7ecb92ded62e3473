import type { PageRequest, RecordPage } from '../embedded/embedded.types.js';
import type { SqlQueryable } from '../storage/sql.js';
import type { ClaimedMessage, OutboxStore } from './outbox-store.interface.js';
import type { DeadLetter, OutboxMessage, OutboxStats } from './outbox.types.js';

interface Row extends OutboxMessage {
  /** Insertion order: the order of an ordering key's messages. */
  seq: number;
  lease_token: string | null;
  lease_until: number | null;
}

const copyMessage = <T extends OutboxMessage>(m: T): T => ({ ...m, target: { ...m.target }, headers: { ...m.headers } });

/**
 * The outbox in process memory: for tests and development only (a restart loses it, and it cannot join a
 * database transaction). Keeps the same rules as the SQL stores.
 */
export class InMemoryOutboxStore implements OutboxStore {
  readonly volatile = true;
  private readonly rows = new Map<string, Row>();
  private readonly dead = new Map<string, DeadLetter>();
  private seq = 0;

  async add(messages: OutboxMessage[], tx?: SqlQueryable): Promise<void> {
    if (tx) throw new TypeError('The in-memory outbox cannot join a database transaction; use the PostgreSQL or PGlite storage');
    for (const message of messages) {
      if (this.rows.has(message.id) || this.dead.has(message.id)) continue;
      this.rows.set(message.id, { ...copyMessage(message), seq: this.seq++, lease_token: null, lease_until: null });
    }
  }

  async claim(now: number, limit: number, leaseToken: string, leaseUntil: number): Promise<ClaimedMessage[]> {
    const rows = [...this.rows.values()].sort((a, b) => a.seq - b.seq);
    const blockedKeys = new Set<string>();
    const due: Row[] = [];
    for (const row of rows) {
      const leased = row.lease_token !== null && (row.lease_until ?? 0) > now;
      const ready = !leased && row.available_at <= now;
      if (row.ordering_key !== null) {
        // Only a key's first remaining message may go, and only when it is ready.
        if (blockedKeys.has(row.ordering_key)) continue;
        blockedKeys.add(row.ordering_key);
      }
      if (ready) due.push(row);
    }
    const claimed = due.sort((a, b) => a.available_at - b.available_at || a.seq - b.seq).slice(0, limit);
    for (const row of claimed) Object.assign(row, { lease_token: leaseToken, lease_until: leaseUntil, attempts: row.attempts + 1 });
    return claimed.map((row) => ({ ...stripped(row), lease_token: leaseToken, lease_until: leaseUntil }));
  }

  async complete(id: string, leaseToken: string): Promise<boolean> {
    if (!this.holds(id, leaseToken)) return false;
    this.rows.delete(id);
    return true;
  }

  async completeAll(items: Array<{ id: string; leaseToken: string }>): Promise<string[]> {
    const done: string[] = [];
    for (const { id, leaseToken } of items) if (await this.complete(id, leaseToken)) done.push(id);
    return done;
  }

  async retryLater(id: string, leaseToken: string, availableAt: number, error: string): Promise<boolean> {
    const row = this.holds(id, leaseToken);
    if (!row) return false;
    Object.assign(row, { lease_token: null, lease_until: null, available_at: availableAt, last_error: error });
    return true;
  }

  async deadLetter(id: string, leaseToken: string, reason: string, now: number): Promise<boolean> {
    const row = this.holds(id, leaseToken);
    if (!row) return false;
    this.rows.delete(id);
    this.dead.set(id, { ...stripped(row), dead_at: now, reason });
    return true;
  }

  async listDeadLetters(page: PageRequest): Promise<RecordPage<DeadLetter>> {
    const sorted = [...this.dead.values()].sort((a, b) => (a.id < b.id ? 1 : -1)).filter((d) => page.cursor === undefined || d.id < page.cursor);
    const items = sorted.slice(0, page.limit).map(copyMessage);
    return { items, next_cursor: sorted.length > page.limit ? items[items.length - 1]!.id : undefined };
  }

  async requeue(ids: string[], now: number): Promise<number> {
    let moved = 0;
    for (const id of ids) {
      const letter = this.dead.get(id);
      if (!letter) continue;
      this.dead.delete(id);
      const { dead_at: _deadAt, reason: _reason, ...message } = letter;
      this.rows.set(id, { ...message, attempts: 0, available_at: now, last_error: null, seq: this.seq++, lease_token: null, lease_until: null });
      moved++;
    }
    return moved;
  }

  async stats(now: number): Promise<OutboxStats> {
    let pending = 0;
    let inFlight = 0;
    let oldest: number | undefined;
    for (const row of this.rows.values()) {
      if (row.lease_token !== null && (row.lease_until ?? 0) > now) inFlight++;
      else pending++;
      oldest = oldest === undefined ? row.created_at : Math.min(oldest, row.created_at);
    }
    return { pending, inFlight, lagMs: oldest === undefined ? 0 : Math.max(0, now - oldest), deadLetters: this.dead.size };
  }

  async close(): Promise<void> {}

  /** The row, if `leaseToken` still holds it. */
  private holds(id: string, leaseToken: string): Row | undefined {
    const row = this.rows.get(id);
    return row && row.lease_token === leaseToken ? row : undefined;
  }
}

function stripped(row: Row): OutboxMessage {
  const { seq: _seq, lease_token: _token, lease_until: _until, ...message } = row;
  return copyMessage(message);
}
