// Migrations are append-only and numbered 1..n. Each must apply to an empty database (the path of a new
// cell) and to the schema the previous migrations left (the path of an upgraded cell).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, test } from 'node:test';
import { migrate, openDb, schemaVersion, transaction } from './db.ts';
import { MIGRATIONS } from './migrations.ts';

const schemaOf = (db: DatabaseSync) =>
  db
    .prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
    .all();

describe('migrations', () => {
  test('versions are 1..n, contiguous, with names and SQL', () => {
    assert.ok(MIGRATIONS.length > 0);
    MIGRATIONS.forEach((m, i) => {
      assert.equal(m.version, i + 1, `migration #${i} has version ${m.version}`);
      assert.match(m.name, /\S/);
      assert.match(m.sql, /\S/);
    });
  });

  test('all of them apply to an empty database', () => {
    const db = new DatabaseSync(':memory:');
    assert.equal(migrate(db), MIGRATIONS.length);
    assert.equal(schemaVersion(db), MIGRATIONS.length);
  });

  for (const m of MIGRATIONS) {
    test(`migration ${m.version} (${m.name}) applies to the schema of migrations 1..${m.version - 1}`, () => {
      const db = new DatabaseSync(':memory:');
      db.exec('PRAGMA foreign_keys = ON');
      migrate(db, MIGRATIONS.slice(0, m.version - 1));
      assert.equal(schemaVersion(db), m.version - 1);
      migrate(db, MIGRATIONS.slice(0, m.version));
      assert.equal(schemaVersion(db), m.version);
      // Step by step and all at once must end in the same schema.
      const fresh = new DatabaseSync(':memory:');
      migrate(fresh, MIGRATIONS.slice(0, m.version));
      assert.deepEqual(schemaOf(db), schemaOf(fresh));
    });
  }

  test('re-running is a no-op; a gap in the numbers is refused', () => {
    const db = new DatabaseSync(':memory:');
    migrate(db);
    assert.equal(migrate(db), MIGRATIONS.length);
    const gap = [...MIGRATIONS, { version: MIGRATIONS.length + 2, name: 'gap', sql: 'SELECT 1' }];
    assert.throws(() => migrate(db, gap), /out of order/);
  });

  test('a failing migration rolls back whole and leaves the version unchanged', () => {
    const db = new DatabaseSync(':memory:');
    migrate(db);
    const bad = [
      ...MIGRATIONS,
      { version: MIGRATIONS.length + 1, name: 'bad', sql: 'CREATE TABLE half (x); SELECT * FROM missing;' },
    ];
    assert.throws(() => migrate(db, bad));
    assert.equal(schemaVersion(db), MIGRATIONS.length);
    assert.equal(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'half'").get()?.n, 0);
  });
});

describe('openDb', () => {
  test('a new database file is 0600, in WAL mode, with foreign keys on', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pic-db-'));
    try {
      const path = join(dir, 'cell.db');
      const db = openDb(path);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(db.prepare('PRAGMA journal_mode').get()?.journal_mode, 'wal');
      assert.equal(db.prepare('PRAGMA foreign_keys').get()?.foreign_keys, 1);
      assert.equal(schemaVersion(db), MIGRATIONS.length);
      db.close();
      const again = openDb(path); // reopening an up-to-date database changes nothing
      assert.equal(schemaVersion(again), MIGRATIONS.length);
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('transaction commits, or rolls back on a throw', () => {
    const db = openDb(':memory:');
    transaction(db, () => db.prepare("INSERT INTO meta VALUES ('a', '1')").run());
    assert.throws(() =>
      transaction(db, () => {
        db.prepare("INSERT INTO meta VALUES ('b', '2')").run();
        throw new Error('boom');
      }),
    );
    assert.deepEqual(
      db
        .prepare('SELECT key FROM meta ORDER BY key')
        .all()
        .map((r) => r.key),
      ['a'],
    );
  });
});
