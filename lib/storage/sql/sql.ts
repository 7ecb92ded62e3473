/**
 * The one thing the SQL stores need from a database connection: `query(text, params) → { rows }`.
 * node-postgres `Pool`, `Client` and `PoolClient`, PGlite and a PGlite transaction all have exactly this shape,
 * so they are accepted as they are; any other library fits in a line (see the README's recipes).
 */
export interface SqlQueryable {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

/** A database the stores own: queries, transactions on one connection, and closing. */
export interface SqlDatabase extends SqlQueryable {
  /** Runs `work` in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws. */
  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  /**
   * Runs a statement the stores run for every few events as a named prepared statement: parsed and planned once per
   * connection, then only bound and executed. `name` is unique to `text`. Optional: without it, query() runs it.
   */
  queryPrepared?<R = Record<string, unknown>>(name: string, text: string, params: unknown[]): Promise<{ rows: R[] }>;
  /** Statements it can run at the same time (a pool's size); default 1 (one connection, as PGlite). */
  readonly connections?: number;
  /** Closes what this object opened (a pool it created, a PGlite instance it opened); leaves yours open. */
  close(): Promise<void>;
}
