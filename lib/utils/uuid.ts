import { randomUUID } from 'node:crypto';

let lastMs = -1;
let counter = 0;

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then 12 bits that count up within a millisecond
 * (RFC 9562 §6.2, method 1, seeded at random each millisecond), then random bits. So ids made by one process sort
 * in creation order, which lists (newest first) and the outbox rely on, and they index well in PostgreSQL.
 * Built on randomUUID() (served from Node's cached entropy, much cheaper than randomBytes per call).
 */
export function uuidv7(at?: number): string {
  let ms: number;
  let count: number;
  if (at !== undefined) {
    // An explicit time (tests): no order to keep with the process's own ids.
    ms = at;
    count = Math.floor(Math.random() * 0x1000);
  } else {
    const now = Date.now();
    if (now > lastMs) {
      lastMs = now;
      counter = Math.floor(Math.random() * 0x800);
    } else if (++counter > 0xfff) {
      // The same millisecond (or a clock that stepped back): count on. 4096 ids in one millisecond borrow the next.
      lastMs++;
      counter = 0;
    }
    ms = lastMs;
    count = counter;
  }
  const random = randomUUID(); // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx: keep the variant and the last 62 random bits
  const time = ms.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8)}-7${count.toString(16).padStart(3, '0')}${random.slice(18)}`;
}
