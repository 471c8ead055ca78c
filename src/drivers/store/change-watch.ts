// "Has anything a cache read from these tables changed?", cheaply enough to ask on every request, for
// caches of rows that must never be served stale (the session lookup of every API request).
//
// Two signals together see every committed change:
// - temporary triggers on this connection call a function that counts this connection's own
//   INSERT, UPDATE and DELETE on the watched tables (raw SQL and cascades included), whether the
//   transaction then commits or rolls back: checked on every call, no I/O;
// - the WAL index's header, for every other connection of any process (`pic admin reset-password`
//   beside `pic serve`): every commit rewrites it (SQLite's WAL-index format: the first 48 bytes of
//   `<db>-shm` are the header's first copy, written last by the committer; its frame count, salts and
//   checksums change with every commit, WAL restart and recovery). SQLite itself decides whether its
//   page cache is still valid by comparing this header with the one it last saw; PRAGMA data_version
//   reports the same comparison through a read transaction. A header that changes without a commit
//   (a checkpoint's WAL restart) only drops the cache. Without a `-shm` file (an in-memory database,
//   another journal mode) PRAGMA data_version is read instead.
//   The header is read once per event-loop turn, not once per call: a system call on this VM costs
//   the API ~10 µs a request under load, the page-table flush included (measured: `GET /api/auth/me`
//   at 84 µs of CPU with PRAGMA data_version per request, 73–79 with a pread per request, 63 without
//   either; docs/performance.md). So another process's commit is seen by every request read in a
//   later turn than the commit: a request served stale is one that reached the API in the same turn
//   as the commit, i.e. one that was in flight beside it (a turn lasts at most a few ms under load).
//   This connection's own changes are seen at once, as before.
// A cache that reads the epoch before it reads its rows, and drops everything when it moved, can serve
// a row only while no commit of anyone's has happened since that row was read (in an earlier turn).
import { closeSync, openSync, readSync } from 'node:fs';
import type { StatementSync } from 'node:sqlite';
import type { Db } from '../db.ts';

/** Bytes of the WAL index header's first copy at the start of `<db>-shm`. */
const WAL_INDEX_HEADER_BYTES = 48;

/** The `-shm` descriptors of watches whose database went away: closed when the watch is collected. */
const shmFiles = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
});

/** The open `-shm` file of a database in WAL mode, or undefined when it has none. */
function openShm(db: Db): number | undefined {
  const path = db.location();
  const mode = (db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode;
  if (!path || mode !== 'wal') return undefined;
  try {
    return openSync(`${path}-shm`, 'r');
  } catch {
    return undefined; // e.g. exclusive locking mode: the WAL index lives in memory
  }
}

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

  /** The `-shm` file's descriptor, or undefined: then PRAGMA data_version. */
  readonly #shm: number | undefined;
  /** The header as last read, and the buffer the next read goes into (swapped when they differ). */
  #seenHeader = Buffer.alloc(WAL_INDEX_HEADER_BYTES);
  #header = Buffer.alloc(WAL_INDEX_HEADER_BYTES);
  /** Without a `-shm` file: PRAGMA data_version, its own statement answering an array (no row object). */
  readonly #dataVersion: StatementSync | undefined;
  #local = 0;
  #seenLocal = -1;
  #seenData = -1;
  #epoch = 0;
  /** Set when the header has been read in this event-loop turn; a setImmediate clears it. */
  #checkedThisTurn = false;
  readonly #endTurn = () => {
    this.#checkedThisTurn = false;
  };

  private constructor(db: Db, tables: readonly string[], n: number) {
    this.#shm = openShm(db);
    if (this.#shm !== undefined) shmFiles.register(this, this.#shm);
    if (this.#shm === undefined) {
      this.#dataVersion = db.prepare('PRAGMA data_version');
      this.#dataVersion.setReturnArrays(true);
    }
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
   * A number that differs from the one any earlier call returned whenever the watched tables changed
   * on this connection in between, or another connection committed anything before this event-loop
   * turn began. Read it before the rows to be cached and keep it with them: a change between the two
   * then shows on the next call (another connection's, on the first call of a later turn).
   */
  epoch(): number {
    if (this.#otherCommitted() || this.#local !== this.#seenLocal) {
      this.#seenLocal = this.#local;
      this.#epoch++;
    }
    return this.#epoch;
  }

  /** Has the WAL index header (or data_version) changed since it was last read, in an earlier turn? */
  #otherCommitted(): boolean {
    if (this.#checkedThisTurn) return false;
    this.#checkedThisTurn = true;
    setImmediate(this.#endTurn);
    if (this.#shm === undefined) {
      const data = (this.#dataVersion!.get() as unknown as [number])[0];
      if (data === this.#seenData) return false;
      this.#seenData = data;
      return true;
    }
    // A short read (a -shm file being recreated) leaves stale bytes: they differ or the next read does.
    readSync(this.#shm, this.#header, 0, WAL_INDEX_HEADER_BYTES, 0);
    if (this.#header.equals(this.#seenHeader)) return false;
    [this.#seenHeader, this.#header] = [this.#header, this.#seenHeader];
    return true;
  }
}
