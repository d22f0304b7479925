import { DataSource, EntityManager } from 'typeorm';

// Note [Persistence]
// Apps keep their data in typed SQL confined to `*.repository.ts` (ADR 7 in docs/architecture.md):
// a repository extends `SqlRepository`, owns every statement on its tables and returns typed rows;
// services hold the logic and never see a DataSource. A service that needs several writes (and its
// outbox events) in one transaction asks a repository for `transaction(tx => …)` and passes `tx`
// to the repositories' methods, which take a `Db` first argument for that purpose.

/** Anything that runs SQL: the DataSource, or the EntityManager of a transaction. */
export type Db = Pick<DataSource, 'query'> | EntityManager;

export type IsolationLevel = 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE';

/** The EntityManager of an open transaction. */
export type Tx = EntityManager;

/** The one transaction helper: runs `fn` in a transaction of `ds` (committed when it resolves). */
export function inTransaction<T>(
  ds: DataSource,
  fn: (tx: Tx) => Promise<T>,
  isolation?: IsolationLevel,
): Promise<T> {
  return isolation ? ds.transaction(isolation, fn) : ds.transaction(fn);
}

/** The base of every repository: its DataSource stays inside it (see Note [Persistence]). */
export abstract class SqlRepository {
  protected constructor(protected readonly db: DataSource) {}

  /**
   * Runs `fn` in one transaction. In embedded mode the DataSource has a single connection: inside
   * `fn` use only `tx`, never this repository's own `db`-based methods without it.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>, isolation?: IsolationLevel): Promise<T> {
    return inTransaction(this.db, fn, isolation);
  }
}
