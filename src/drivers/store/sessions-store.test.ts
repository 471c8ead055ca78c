import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDb } from '../db.ts';
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
