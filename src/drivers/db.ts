// The cell's one SQLite database (WAL). Opening it applies pending migrations in one transaction each.
import { chmodSync, existsSync } from 'node:fs';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { UnitOfWork } from '../core/ports/unit-of-work.ts';
import { MIGRATIONS, type Migration } from './migrations.ts';

export type Db = DatabaseSync;

export function openDb(path: string, migrations: readonly Migration[] = MIGRATIONS): Db {
  const isNew = path !== ':memory:' && !existsSync(path);
  const db = new DatabaseSync(path);
  if (isNew) chmodSync(path, 0o600);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA foreign_keys = ON');
  db.exec('PRAGMA busy_timeout = 5000');
  migrate(db, migrations);
  return db;
}

const statements = new WeakMap<Db, Map<string, StatementSync>>();

/**
 * A prepared statement, prepared once per database and SQL text and reused: preparing costs more
 * than running a simple query, and the session lookup runs on every request.
 */
export function stmt(db: Db, sql: string): StatementSync {
  let cache = statements.get(db);
  if (!cache) {
    cache = new Map();
    statements.set(db, cache);
  }
  let s = cache.get(sql);
  if (!s) {
    s = db.prepare(sql);
    cache.set(sql, s);
  }
  return s;
}

export function schemaVersion(db: Db): number {
  const row = db.prepare('PRAGMA user_version').get() as { user_version: number };
  return row.user_version;
}

export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): number {
  let version = schemaVersion(db);
  for (const m of migrations) {
    if (m.version <= version) continue;
    if (m.version !== version + 1)
      throw new Error(`migration ${m.version} (${m.name}) is out of order after ${version}`);
    transaction(db, () => {
      db.exec(m.sql);
      db.exec(`PRAGMA user_version = ${m.version}`);
    });
    version = m.version;
  }
  return version;
}

/** Runs fn inside BEGIN IMMEDIATE … COMMIT; rolls back on any throw. Not re-entrant. */
export function transaction<T>(db: Db, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}

/** The SQLite implementation of core's unit of work. */
export function sqliteUnitOfWork(db: Db): UnitOfWork {
  return { run: (fn) => transaction(db, fn) };
}
