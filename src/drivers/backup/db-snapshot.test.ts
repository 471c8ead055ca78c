// The database a backup carries: SQLite's online backup API (node:sqlite's backup()) into an unlinked
// private file, read back in pieces. Consistent while another connection writes, through the real
// archive (manifest and SHA-256 checked on unpack); memory does not grow with the database; no name
// of it left on disk.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, test } from 'node:test';
import { type BackupHeader, DEFAULT_UNPACK_LIMITS } from '../../schema/backup.ts';
import { openDb } from '../db.ts';
import { openArchive, unpack } from './archive-reader.ts';
import { writeArchive } from './archive-writer.ts';
import { databaseSnapshot } from './cell-state.ts';

const root = mkdtempSync(join(tmpdir(), 'pic-db-snapshot-'));
after(() => rmSync(root, { recursive: true, force: true }));

const header: BackupHeader = {
  format: 1,
  pic_version: '0.1.0',
  created_at: '2026-12-04T01:00:00.000Z',
  backup_id: 'backup-20261204-010000-abcdef',
  cell: { cell_name: 'home', domain: 'home.cell' },
};

/** A WAL database of `mib` MiB of random blobs, two accounts whose sum stays 1000, and a write counter. */
function bigDb(dir: string, mib: number) {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'cell.db');
  const db = openDb(path, []);
  db.exec(`CREATE TABLE blob (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
    CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER NOT NULL);
    CREATE TABLE log (n INTEGER PRIMARY KEY, data BLOB NOT NULL);
    CREATE TABLE meta (k TEXT PRIMARY KEY, n INTEGER NOT NULL);
    INSERT INTO acct VALUES (1, 1000), (2, 0);
    INSERT INTO meta VALUES ('writes', 0);`);
  db.prepare(
    'WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?) INSERT INTO blob (data) SELECT randomblob(1048576) FROM s',
  ).run(mib);
  return { path, db };
}

/** Another connection writing, one transaction per turn of the event loop, until stop(). */
function writer(path: string) {
  const w = new DatabaseSync(path);
  w.exec('PRAGMA busy_timeout = 5000');
  let writes = 0;
  let running = true;
  const step = () => {
    if (!running) return;
    w.exec('BEGIN IMMEDIATE');
    const amount = (writes % 7) + 1;
    w.prepare('UPDATE acct SET bal = bal - ? WHERE id = 1').run(amount);
    w.prepare('UPDATE acct SET bal = bal + ? WHERE id = 2').run(amount);
    w.prepare('INSERT INTO log (data) VALUES (randomblob(4096))').run();
    w.prepare("UPDATE meta SET n = (SELECT count(*) FROM log) WHERE k = 'writes'").run();
    w.exec('COMMIT');
    writes += 1;
    setImmediate(step);
  };
  setImmediate(step);
  return {
    writes: () => writes,
    stop() {
      if (!running) return;
      running = false;
      w.close();
    },
  };
}

describe('the database snapshot of a backup', () => {
  test('taken while another connection writes: the restored database is sound and of one instant', async () => {
    const dir = join(root, 'consistent');
    const { path, db } = bigDb(dir, 32);
    const w = writer(path);
    try {
      await new Promise((r) => setTimeout(r, 20));
      const before = w.writes();
      const snap = await databaseSnapshot(db, dir);
      const during = w.writes() - before;
      assert.ok(during > 0, 'the other connection wrote while SQLite copied');
      // No name of the snapshot on disk once SQLite is done: only the live database's files.
      assert.deepEqual(
        readdirSync(dir).filter((n) => !/^cell\.db(-wal|-shm)?$/.test(n)),
        [],
        'the snapshot has no name on disk',
      );
      const out = join(dir, 'out.tar.gz');
      try {
        await writeArchive({ out, header, sources: [snap.source] });
      } finally {
        await snap.close();
      }
      w.stop();
      // The archive's way back: unpacked into staging, every file checked against the manifest.
      const staging = join(root, 'consistent-staging');
      mkdirSync(staging, { mode: 0o700 });
      const manifest = await unpack(await openArchive(out, undefined), {
        staging,
        limits: DEFAULT_UNPACK_LIMITS,
        picVersion: '0.1.0',
      });
      assert.equal(manifest.files[0]?.path, 'db/cell.db');
      const restored = new DatabaseSync(join(staging, 'db', 'cell.db'));
      try {
        assert.equal(
          (restored.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check,
          'ok',
        );
        const sum = restored.prepare('SELECT sum(bal) AS s FROM acct').get() as { s: number };
        assert.equal(sum.s, 1000, 'both halves of every transfer, or neither');
        const { n } = restored.prepare("SELECT n FROM meta WHERE k = 'writes'").get() as { n: number };
        const { c } = restored.prepare('SELECT count(*) AS c FROM log').get() as { c: number };
        assert.equal(n, c, 'the counter and the rows it counts are of the same instant');
        assert.ok(c >= before, 'the rows committed before the snapshot are in it');
        const blobs = restored.prepare('SELECT count(*) AS c FROM blob').get() as { c: number };
        assert.equal(blobs.c, 32);
      } finally {
        restored.close();
      }
    } finally {
      w.stop();
      db.close();
    }
  });

  test('memory does not grow with the database (128 MiB through the snapshot)', async () => {
    const dir = join(root, 'memory');
    const { db } = bigDb(dir, 128);
    try {
      const base = process.memoryUsage();
      let peakRss = base.rss;
      let peakBuffers = base.arrayBuffers;
      const sample = () => {
        const m = process.memoryUsage();
        peakRss = Math.max(peakRss, m.rss);
        peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
      };
      const timer = setInterval(sample, 5);
      const snap = await databaseSnapshot(db, dir);
      let bytes = 0;
      try {
        for await (const chunk of (await snap.source.open()) as AsyncIterable<Buffer>) {
          bytes += chunk.length;
          sample();
        }
      } finally {
        clearInterval(timer);
        await snap.close();
      }
      assert.equal(bytes, snap.source.size);
      assert.ok(snap.source.size > 128 * 2 ** 20);
      const mib = (n: number) => Math.round(n / 2 ** 20);
      // sqlite3_serialize held the whole database (128+ MiB) in one buffer; the backup API's copy
      // goes through SQLite's 2 MiB page cache and the read through one 1 MiB buffer.
      assert.ok(
        peakBuffers - base.arrayBuffers < 8 * 2 ** 20,
        `array buffers grew by ${mib(peakBuffers - base.arrayBuffers)} MiB`,
      );
      assert.ok(peakRss - base.rss < 40 * 2 ** 20, `RSS grew by ${mib(peakRss - base.rss)} MiB`);
    } finally {
      db.close();
    }
  });

  test('a database of its own connection only (in memory) is copied too', async () => {
    const db = openDb(':memory:', []);
    db.exec("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('one')");
    const dir = join(root, 'memdb');
    mkdirSync(dir);
    const snap = await databaseSnapshot(db, dir);
    const chunks: Buffer[] = [];
    for await (const c of (await snap.source.open()) as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
    await snap.close();
    assert.equal(Buffer.concat(chunks).subarray(0, 16).toString('latin1'), 'SQLite format 3\0');
    assert.deepEqual(readdirSync(dir), []);
    db.close();
  });
});
