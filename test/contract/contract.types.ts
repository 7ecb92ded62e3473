import type { SqlQueryable } from '../../lib/storage/sql/sql.js';

/**
 * What a contract case gets. Runner-agnostic: a case is a plain async function asserting with node:assert, so any
 * test runner (Jest here) can run it, and a spec can run it against a deliberately broken store and see it fail.
 */
export interface StoreContext<S> {
  /** A store over an empty database (created, or emptied, for this case). */
  store: S;
  /**
   * `n` stores over the same database, each with its own connections where the database has more than one
   * (PostgreSQL: a pool each, warmed; PGlite: one connection, shared; in-memory: the same store). Closed by the runner.
   */
  stores: (n: number) => Promise<S[]>;
  /** Only for SQL stores: transactions the store can join. */
  sql?: SqlContext;
}

export interface SqlContext {
  /** A connection outside any transaction (each statement commits by itself). */
  autocommit: SqlQueryable;
  /** Opens a transaction on its own connection; the runner rolls back whatever a case leaves open. */
  begin(): Promise<OpenTransaction>;
  /**
   * Whether two transactions can be open at once (PostgreSQL: yes. PGlite: no, it is one connection and a second
   * transaction, or any query, waits until the open one ends; a case must not wait on the store while holding one).
   */
  parallelTransactions: boolean;
}

export interface OpenTransaction {
  tx: SqlQueryable;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

export interface ContractCase<S> {
  name: string;
  /** Races several stores (connections) on one database. */
  concurrent?: boolean;
  /** Runs only on a store of this kind (skipped, named as such, elsewhere). */
  requires?: 'memory' | 'sql' | 'parallelTransactions';
  run(ctx: StoreContext<S>): Promise<void>;
}
