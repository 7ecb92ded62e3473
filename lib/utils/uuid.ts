import { randomUUID } from 'node:crypto';

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits.
 * Time-ordered, so ids sort by creation and index well in PostgreSQL.
 * Built on randomUUID() (v4, served from Node's cached entropy, much cheaper than randomBytes per call):
 * its first 48 bits become the timestamp and its version nibble becomes 7; its variant bits are already right.
 */
export function uuidv7(now: number = Date.now()): string {
  const random = randomUUID();
  const time = now.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8)}-7${random.slice(15)}`;
}
