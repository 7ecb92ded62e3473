/**
 * Conversions between SQL rows and records, the same for every driver: node-postgres returns bigint as a string
 * and jsonb parsed, PGlite returns bigint as a number; other libraries may return JSON as text.
 */

/** A bigint/integer column as a number (epoch ms and counts stay far below 2^53). */
export const num = (value: unknown): number => Number(value);

export const numOrNull = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value);

export const textOrNull = (value: unknown): string | null =>
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a driver returns a text column as a string
  value === null || value === undefined ? null : String(value);

/** A jsonb column, parsed by the driver or not. */
export const fromJson = <T>(value: unknown): T => (typeof value === 'string' ? (JSON.parse(value) as T) : (value as T));

/** A value for a `$n::jsonb` parameter (sent as JSON text, so no driver turns an array into a PostgreSQL array). */
export const toJson = (value: unknown): string => JSON.stringify(value);

/**
 * PostgreSQL text cannot hold U+0000; a receiver's response body may. Replaced (by U+FFFD) so that recording the
 * attempt cannot fail, which would leave the delivery stuck until its lease expires and then send it again, forever.
 */
export const storableText = (text: string): string =>
  text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;

/** The SQLSTATE of a driver error (node-postgres and PGlite both expose `code`). */
export const sqlState = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string'
    ? (error as { code: string }).code
    : undefined;

/** Collects `$n` parameters while a statement is built from optional filters. */
export class SqlParams {
  readonly values: unknown[] = [];

  /** Adds a value and returns its placeholder. */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  /** `$a, $b, …` for an IN list. */
  list(values: readonly unknown[]): string {
    return values.map((v) => this.add(v)).join(', ');
  }
}
