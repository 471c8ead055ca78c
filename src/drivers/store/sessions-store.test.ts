import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Db, openDb, transaction } from '../db.ts';
import { SessionsStore } from './sessions-store.ts';
import { UsersStore } from './users-store.ts';

const session = (idHash: string, userId: number, now: number) => ({
  id_hash: idHash,
  user_id: userId,
  csrf_token: 'csrf',
  created_at: now,
  last_seen_at: now,
  expires_at: now + 3600_000,
  source: 's',
});

test('a session comes back joined with its user; deleting the user deletes it (foreign key cascade)', () => {
  const db = openDb(':memory:');
  const users = new UsersStore(db);
  const sessions = new SessionsStore(db);
  const alice = users.insert('alice', 'admin', 'x');
  const bob = users.insert('bob', 'peer', 'x');
  sessions.insert(session('a', alice, 1000));
  sessions.insert(session('b', bob, 1000));
  const { id_hash: _h, created_at: _c, source: _s, ...row } = session('b', bob, 1000);
  assert.deepEqual({ ...sessions.get('b') }, { ...row, username: 'bob', role: 'peer', totp_enabled: 0 });
  users.setPendingTotp(bob, 'PENDINGSECRET');
  assert.equal(sessions.get('b')?.totp_enabled, 0, 'a pending secret is not two-factor on');
  users.delete('bob');
  assert.equal(sessions.get('b'), undefined);
  assert.equal(sessions.get('a')?.username, 'alice', "another user's sessions stay");
});

test('deleteExpired ends sessions past their lifetime or idle too long, and counts them', () => {
  const db = openDb(':memory:');
  const users = new UsersStore(db);
  const sessions = new SessionsStore(db);
  const id = users.insert('alice', 'admin', 'x');
  sessions.insert(session('fresh', id, 10_000));
  sessions.insert(session('idle', id, 1_000));
  sessions.insert({ ...session('old', id, 10_000), expires_at: 10_500 });
  assert.equal(sessions.deleteExpired(11_000, 5_000), 2);
  assert.ok(sessions.get('fresh'));
  assert.equal(sessions.deleteForUser(id), 1);
});

// The lookup is served from memory while nothing changed (see SessionsStore); these show that every
// change is seen by the very next lookup, from another process, another connection, or this one.

/** Another connection's commits are read once per event-loop turn (change-watch.ts): the next one. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function fileDb(): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'pic-sessions-'));
  return { path: join(dir, 'cell.db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

interface TwoConnections {
  db: Db;
  other: Db;
  users: UsersStore;
  sessions: SessionsStore;
  alice: number;
}

/** A file database with alice's session `a` cached on one connection, and a second connection to it. */
async function withTwoConnections(fn: (c: TwoConnections) => Promise<void>): Promise<void> {
  const { path, cleanup } = fileDb();
  const db = openDb(path);
  const other = openDb(path);
  try {
    const users = new UsersStore(db);
    const sessions = new SessionsStore(db);
    const alice = users.insert('alice', 'admin', 'x');
    sessions.insert(session('a', alice, 1000));
    await fn({ db, other, users, sessions, alice });
  } finally {
    other.close();
    db.close();
    cleanup();
  }
}

test('a session ended or a role changed by another process is seen by the first lookup of the next turn', async () => {
  const { path, cleanup } = fileDb();
  try {
    const db = openDb(path);
    const users = new UsersStore(db);
    const sessions = new SessionsStore(db);
    const alice = users.insert('alice', 'admin', 'x');
    sessions.insert(session('a', alice, 1000));
    sessions.insert(session('b', alice, 1000));
    assert.equal(sessions.get('a')?.role, 'admin');
    assert.equal(sessions.get('a')?.role, 'admin', 'served again (from memory)');
    // Another process, as `pic admin reset-password` beside `pic serve`: its own connection and commit.
    const other = (sql: string, ...args: (string | number)[]) => {
      const r = spawnSync(
        process.execPath,
        [
          '-e',
          `const { DatabaseSync } = require('node:sqlite');
           const db = new DatabaseSync(process.argv[1]);
           db.exec('PRAGMA busy_timeout = 5000');
           db.prepare(process.argv[2]).run(...JSON.parse(process.argv[3]));
           db.close();`,
          path,
          sql,
          JSON.stringify(args),
        ],
        { encoding: 'utf8' },
      );
      assert.equal(r.status, 0, r.stderr);
    };
    other('UPDATE users SET role = ? WHERE id = ?', 'peer', alice);
    await nextTurn();
    assert.equal(sessions.get('a')?.role, 'peer');
    other('DELETE FROM sessions WHERE id_hash = ?', 'a');
    await nextTurn();
    assert.equal(sessions.get('a'), undefined, 'revoked by the other process: gone at once');
    assert.ok(sessions.get('b'));
    other('DELETE FROM sessions WHERE user_id = ?', alice);
    await nextTurn();
    assert.equal(sessions.get('b'), undefined);
    db.close();
  } finally {
    cleanup();
  }
});

test("every commit of another connection is seen by the next turn's lookup (500 changes in a row)", async () => {
  await withTwoConnections(async ({ sessions, alice, other }) => {
    const roles = ['admin', 'peer'] as const;
    for (let i = 0; i < 500; i++) {
      assert.ok(sessions.get('a'));
      switch (i % 4) {
        case 0:
          other.prepare('UPDATE users SET role = ? WHERE id = ?').run(roles[(i / 4) % 2]!, alice);
          await nextTurn();
          assert.equal(sessions.get('a')?.role, roles[(i / 4) % 2]);
          break;
        case 1:
          other.prepare('UPDATE sessions SET csrf_token = ? WHERE id_hash = ?').run(`t${i}`, 'a');
          await nextTurn();
          assert.equal(sessions.get('a')?.csrf_token, `t${i}`);
          break;
        case 2:
          other.prepare('INSERT INTO user_totp (user_id, secret) VALUES (?, ?)').run(alice, 'S');
          await nextTurn();
          assert.equal(sessions.get('a')?.totp_enabled, 1);
          other.prepare('DELETE FROM user_totp WHERE user_id = ?').run(alice);
          await nextTurn();
          assert.equal(sessions.get('a')?.totp_enabled, 0);
          break;
        default:
          other.prepare('DELETE FROM sessions WHERE id_hash = ?').run('a');
          await nextTurn();
          assert.equal(sessions.get('a'), undefined);
          sessions.insert(session('a', alice, 1000));
      }
    }
  });
});

test("this connection's own changes, raw SQL and rolled-back ones included, are seen at once", () => {
  const db = openDb(':memory:');
  const users = new UsersStore(db);
  const sessions = new SessionsStore(db);
  const second = new SessionsStore(db); // a second store on the same connection has its own memory
  const alice = users.insert('alice', 'admin', 'x');
  sessions.insert(session('a', alice, 1000));
  assert.equal(sessions.get('a')?.role, 'admin');
  assert.equal(second.get('a')?.role, 'admin');
  db.prepare('UPDATE users SET role = ? WHERE id = ?').run('peer', alice);
  assert.equal(sessions.get('a')?.role, 'peer');
  assert.equal(second.get('a')?.role, 'peer');
  db.prepare('INSERT INTO user_totp (user_id, secret) VALUES (?, ?)').run(alice, 'S');
  assert.equal(sessions.get('a')?.totp_enabled, 1);
  // Read inside a transaction that then rolls back: nothing of it may stay in memory.
  transaction(db, () => {
    db.prepare('UPDATE sessions SET csrf_token = ? WHERE id_hash = ?').run('rolled-back', 'a');
    assert.equal(sessions.get('a')?.csrf_token, 'rolled-back');
  });
  assert.throws(() =>
    transaction(db, () => {
      db.prepare('UPDATE sessions SET csrf_token = ? WHERE id_hash = ?').run('never', 'a');
      assert.equal(sessions.get('a')?.csrf_token, 'never');
      throw new Error('roll back');
    }),
  );
  assert.equal(sessions.get('a')?.csrf_token, 'rolled-back');
  db.prepare('DELETE FROM sessions WHERE id_hash = ?').run('a');
  assert.equal(sessions.get('a'), undefined);
  assert.equal(second.get('a'), undefined);
  sessions.insert(session('a', alice, 1000));
  users.delete('alice'); // the cascade deletes the session
  assert.equal(sessions.get('a'), undefined);
});

test('commits after checkpoints that restart the WAL are seen too (the WAL index header starts over)', async () => {
  await withTwoConnections(async ({ sessions, alice, other }) => {
    const roles = ['admin', 'peer'] as const;
    for (let i = 0; i < 50; i++) {
      assert.ok(sessions.get('a')); // cached
      // A full checkpoint and truncate: the next commit writes the WAL from its first frame again, with
      // new salts, so the header's frame count can come back to a value it had before.
      other.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      other.prepare('UPDATE users SET role = ? WHERE id = ?').run(roles[i % 2]!, alice);
      await nextTurn();
      assert.equal(sessions.get('a')?.role, roles[i % 2]);
    }
  });
});

test('an in-memory database (no -shm file) still sees its own changes', () => {
  const db = openDb(':memory:');
  const users = new UsersStore(db);
  const sessions = new SessionsStore(db);
  const alice = users.insert('alice', 'admin', 'x');
  sessions.insert(session('a', alice, 1000));
  assert.equal(sessions.get('a')?.role, 'admin');
  db.prepare('UPDATE users SET role = ? WHERE id = ?').run('peer', alice);
  assert.equal(sessions.get('a')?.role, 'peer');
  db.close();
});

test("another connection's commit: not read again within the turn of the last read, read in the next", async () => {
  await withTwoConnections(async ({ db, users, sessions, alice, other }) => {
    await nextTurn();
    assert.equal(sessions.get('a')?.role, 'admin'); // the header is read in this turn
    other.prepare('UPDATE users SET role = ? WHERE id = ?').run('peer', alice);
    // Same turn: this request was in flight beside the commit (change-watch.ts).
    assert.equal(sessions.get('a')?.role, 'admin');
    await nextTurn();
    assert.equal(sessions.get('a')?.role, 'peer');
    // This connection's own change is seen at once, turn or not.
    users.insert('bob', 'peer', 'y');
    db.prepare('UPDATE users SET role = ? WHERE id = ?').run('admin', alice);
    assert.equal(sessions.get('a')?.role, 'admin');
  });
});
