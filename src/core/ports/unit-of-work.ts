// The unit of work: core runs several repository calls as one all-or-nothing change without
// knowing what stores them. The SQLite driver implements it with BEGIN IMMEDIATE … COMMIT.

export interface UnitOfWork {
  /** Runs fn in one transaction; a throw rolls every write inside it back. Not re-entrant. */
  run<T>(fn: () => T): T;
}
