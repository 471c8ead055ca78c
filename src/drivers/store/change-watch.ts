// "Has anything a cache read from these tables changed?", cheaply enough to ask on every request, for
// caches of rows that must never be served stale (the session lookup of every API request).
//
// Two counters together see every committed change:
// - PRAGMA data_version changes whenever another connection — another process (`pic admin
//   reset-password` beside `pic serve`) or another connection of this one — has committed anything
//   to the database since this connection last asked (SQLite reads it from the WAL index's shared
//   header, which every commit rewrites). It does not change for this connection's own commits;
// - so temporary triggers on this connection call a function that counts this connection's own
//   INSERT, UPDATE and DELETE on the watched tables (raw SQL and cascades included), whether the
//   transaction then commits or rolls back.
// A cache that reads the epoch before it reads its rows, and drops everything when it moved, can serve
// a row only while no commit of anyone's has happened since that row was read.
import type { StatementSync } from 'node:sqlite';
import type { Db } from '../db.ts';

const watches = new WeakMap<Db, Map<string, ChangeWatch>>();

export class ChangeWatch {
  /** The one watch of these tables on this connection (the triggers and the function are per connection). */
  static of(db: Db, tables: readonly string[]): ChangeWatch {
    let perDb = watches.get(db);
    if (!perDb) {
      perDb = new Map();
      watches.set(db, perDb);
    }
    const key = [...tables].sort().join(',');
    let w = perDb.get(key);
    if (!w) {
      w = new ChangeWatch(db, tables, perDb.size);
      perDb.set(key, w);
    }
    return w;
  }

  /** Its own statement, answering an array (no row object per call): asked on every request. */
  readonly #dataVersion: StatementSync;
  #local = 0;
  #seenLocal = -1;
  #seenData = -1;
  #epoch = 0;

  private constructor(db: Db, tables: readonly string[], n: number) {
    this.#dataVersion = db.prepare('PRAGMA data_version');
    this.#dataVersion.setReturnArrays(true);
    const fn = `pic_change_watch_${n}`;
    db.function(fn, { deterministic: false }, () => {
      this.#local++;
      return null;
    });
    for (const table of tables) {
      if (!/^[a-z_]+$/.test(table)) throw new Error(`not a table name: ${table}`);
      for (const op of ['INSERT', 'UPDATE', 'DELETE'])
        db.exec(
          `CREATE TEMP TRIGGER IF NOT EXISTS ${fn}_${table}_${op.toLowerCase()} AFTER ${op} ON main.${table} ` +
            `BEGIN SELECT ${fn}(); END`,
        );
    }
  }

  /**
   * A number that differs from the one any earlier call returned whenever another connection has
   * committed anything, or the watched tables changed on this connection, in between. Read it before
   * the rows to be cached and keep it with them: a change between the two then shows on the next call.
   */
  epoch(): number {
    const data = (this.#dataVersion.get() as unknown as [number])[0];
    if (data !== this.#seenData || this.#local !== this.#seenLocal) {
      this.#seenData = data;
      this.#seenLocal = this.#local;
      this.#epoch++;
    }
    return this.#epoch;
  }
}
