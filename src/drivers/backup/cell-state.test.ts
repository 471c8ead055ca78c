// The restore's journaled swap when it fails part-way in a running process (not a crash: an error such
// as a full disk or a database another writer holds): the staging directory the journal names is kept,
// so the next start finishes the swap instead of refusing to start over a journal naming nothing.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { openDb } from '../db.ts';
import {
  checkStagedDatabase,
  commitRestore,
  newStaging,
  removeStaging,
  rollForward,
  sweepStaging,
  sweepUnderLock,
} from './cell-state.ts';
import { tryJobLock } from './job-lock.ts';

const userCount = (db: ReturnType<typeof openDb>, name: string) =>
  (db.prepare('SELECT count(*) AS n FROM users WHERE username = ?').get(name) as { n: number }).n;

test('a swap that failed after the journal keeps its staging directory; the next start finishes it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pic-cell-state-'));
  try {
    const data = join(dir, 'data');
    mkdirSync(join(data, 'secrets'), { recursive: true });
    writeFileSync(join(data, 'secrets', 'key'), 'live');
    const db = openDb(join(data, 'cell.db'));
    const staging = newStaging(data);
    mkdirSync(join(staging, 'data', 'secrets'), { recursive: true });
    writeFileSync(join(staging, 'data', 'secrets', 'key'), 'backup');
    commitRestore(data, staging);

    // The database rows cannot be copied (here: the staged database is not there), after the files moved.
    assert.throws(() => rollForward(data, db));
    assert.equal(readFileSync(join(data, 'secrets', 'key'), 'utf8'), 'backup');
    await removeStaging(staging); // what the restore does once its job failed
    assert.ok(existsSync(staging), 'the journal names it: kept');
    assert.deepEqual(sweepStaging(data), [], 'a start does not sweep it either');

    // The next start: the staged database is readable now, and the swap is finished from the journal.
    mkdirSync(join(staging, 'db'));
    const staged = openDb(join(staging, 'db', 'cell.db'));
    staged
      .prepare(
        "INSERT INTO users (username, role, password_hash, created_at, password_changed_at) VALUES ('restored', 'admin', 'x', '', '')",
      )
      .run();
    staged.close();
    assert.equal(rollForward(data, db), true);
    assert.equal(userCount(db, 'restored'), 1);
    assert.equal(readFileSync(join(data, 'secrets', 'key'), 'utf8'), 'backup');
    await removeStaging(staging);
    assert.ok(!existsSync(staging), 'the journal is gone: removed');
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a staged database with objects PIC did not make, or missing some, is refused before any of it runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pic-cell-state-'));
  try {
    const cases: Array<[string, (db: ReturnType<typeof openDb>) => void]> = [
      [
        'an extra view',
        (db) =>
          db.exec(
            'CREATE VIEW evil AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r',
          ),
      ],
      [
        'an extra trigger',
        (db) => db.exec('CREATE TRIGGER t AFTER INSERT ON peers BEGIN DELETE FROM users; END'),
      ],
      ['a missing table', (db) => db.exec('DROP TABLE dns_records')],
    ];
    for (const [what, change] of cases) {
      const staging = join(dir, what.replaceAll(' ', '-'));
      mkdirSync(join(staging, 'db'), { recursive: true });
      const db = openDb(join(staging, 'db', 'cell.db'));
      change(db);
      db.close();
      assert.throws(() => checkStagedDatabase(staging), /schema/, what);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a journal that names anything but its own staging directory and single names is refused, nothing moved', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pic-cell-state-'));
  try {
    const data = join(dir, 'data');
    mkdirSync(join(data, 'secrets'), { recursive: true });
    writeFileSync(join(data, 'secrets', 'key'), 'live');
    const db = openDb(join(data, 'cell.db'));
    const staging = newStaging(data);
    for (const journal of [
      { staging: 'restore-staging-x/../../..', install: [], remove: [] },
      { staging: staging.split('/').at(-1), install: ['../../etc'], remove: [] },
      { staging: staging.split('/').at(-1), install: [], remove: ['secrets/key'] },
      { staging: staging.split('/').at(-1), install: [], remove: ['cell.db'] },
    ]) {
      writeFileSync(join(data, 'restore-journal.json'), JSON.stringify(journal));
      assert.throws(() => rollForward(data, db), /not one PIC wrote/);
      assert.equal(readFileSync(join(data, 'secrets', 'key'), 'utf8'), 'live');
    }
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('what a killed job left goes only under the job lock: a staging no journal names, every snapshot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pic-sweep-'));
  try {
    const stale = newStaging(dir);
    writeFileSync(join(stale, 'plain'), 'secret');
    mkdirSync(join(dir, 'backup-snapshot-Ab12Cd'), { mode: 0o700 });
    writeFileSync(join(dir, 'backup-snapshot-Ab12Cd', 'cell.db'), 'SQLite format 3\0');
    const held = tryJobLock(dir);
    assert.ok(held);
    assert.equal(
      sweepUnderLock(dir, () => tryJobLock(dir)),
      null,
      'another holder: nothing swept',
    );
    assert.ok(existsSync(stale));
    held.release();
    assert.deepEqual(sweepUnderLock(dir, () => tryJobLock(dir))?.swept.sort(), [
      'backup-snapshot-Ab12Cd',
      basename(stale),
    ]);
    assert.ok(!existsSync(stale));
    assert.ok(!existsSync(join(dir, 'backup-snapshot-Ab12Cd')));
    const again = tryJobLock(dir);
    assert.ok(again, 'the sweep released the lock');
    again.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
