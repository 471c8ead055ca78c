import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Role, SessionRow } from '../../schema/users.ts';
import type { SessionsRepository } from '../ports/sessions-repository.ts';
import { hashId, SESSION_IDLE_MS, SESSION_TTL_MS, Sessions } from './sessions.ts';

/**
 * The repository in memory, with the SQLite store's semantics (the join with users, the expiry
 * query). That deleting a user ends their sessions is the store's job: sessions-store.test.ts.
 */
function memoryStore(users: Map<number, { username: string; role: Role }>) {
  const rows = new Map<string, SessionRow>();
  const store: SessionsRepository = {
    insert: (row) => void rows.set(row.id_hash, { ...row }),
    get: (idHash) => {
      const row = rows.get(idHash);
      const user = row && users.get(row.user_id);
      return row && user ? { ...row, ...user, totp_enabled: 0 } : undefined;
    },
    touch: (idHash, now) => {
      const row = rows.get(idHash);
      if (row) row.last_seen_at = now;
    },
    delete: (idHash) => void rows.delete(idHash),
    deleteForUser: (userId) => drop((r) => r.user_id === userId),
    deleteExpired: (now, idleMs) => drop((r) => r.expires_at <= now || r.last_seen_at <= now - idleMs),
  };
  function drop(match: (r: SessionRow) => boolean): number {
    const gone = [...rows.values()].filter(match);
    for (const r of gone) rows.delete(r.id_hash);
    return gone.length;
  }
  return { store, rows: () => [...rows.values()] };
}

function setup() {
  const alice = 1;
  const bob = 2;
  const users = new Map([
    [alice, { username: 'alice', role: 'admin' as const }],
    [bob, { username: 'bob', role: 'peer' as const }],
  ]);
  const { store, rows } = memoryStore(users);
  const clock = { now: 1_700_000_000_000 };
  const sessions = new Sessions(store, () => clock.now);
  return { rows, alice, bob, clock, sessions };
}

test('create returns a random id and CSRF token; the repository holds only the id hash', () => {
  const { rows: stored, sessions, alice } = setup();
  const a = sessions.create(alice, '10.0.0.2');
  const b = sessions.create(alice, '10.0.0.2');
  assert.notEqual(a.id, b.id);
  assert.notEqual(a.csrfToken, b.csrfToken);
  assert.ok(a.id.length >= 43);
  const rows = stored();
  assert.equal(rows.length, 2);
  const dump = JSON.stringify(rows);
  assert.ok(!dump.includes(a.id) && !dump.includes(b.id), 'raw ids are not stored');
  assert.ok(rows.some((r) => r.id_hash === hashId(a.id)));
});

test('resolve gives user, role and the CSRF token bound to that session', () => {
  const { sessions, alice, bob } = setup();
  const a = sessions.create(alice, 's');
  const b = sessions.create(bob, 's');
  assert.deepEqual(sessions.resolve(a.id), {
    idHash: hashId(a.id),
    userId: alice,
    username: 'alice',
    role: 'admin',
    csrfToken: a.csrfToken,
    totpEnabled: false,
  });
  assert.equal(sessions.resolve(b.id)?.role, 'peer');
  assert.equal(sessions.resolve(b.id)?.csrfToken, b.csrfToken);
});

test('unknown, empty and oversized ids resolve to nothing', () => {
  const { sessions } = setup();
  assert.equal(sessions.resolve(undefined), undefined);
  assert.equal(sessions.resolve(''), undefined);
  assert.equal(sessions.resolve('nope'), undefined);
  assert.equal(sessions.resolve('x'.repeat(10_000)), undefined);
});

test('sessions expire after the idle time and after the absolute lifetime', () => {
  const { sessions, alice, clock } = setup();
  const idle = sessions.create(alice, 's');
  clock.now += SESSION_IDLE_MS;
  assert.equal(sessions.resolve(idle.id), undefined, 'idle too long');

  const busy = sessions.create(alice, 's');
  const start = clock.now;
  while (clock.now + SESSION_IDLE_MS / 2 < start + SESSION_TTL_MS) {
    clock.now += SESSION_IDLE_MS / 2;
    assert.ok(sessions.resolve(busy.id), 'activity keeps it alive');
  }
  clock.now = start + SESSION_TTL_MS;
  assert.equal(sessions.resolve(busy.id), undefined, 'absolute lifetime');
});

test('destroy, destroyAllFor and sweep', () => {
  const { sessions, alice, bob, clock } = setup();
  const a1 = sessions.create(alice, 's');
  const a2 = sessions.create(alice, 's');
  const b1 = sessions.create(bob, 's');
  sessions.destroy(hashId(a1.id));
  assert.equal(sessions.resolve(a1.id), undefined);
  assert.ok(sessions.resolve(a2.id));
  assert.equal(sessions.destroyAllFor(alice), 1);
  assert.equal(sessions.resolve(a2.id), undefined);
  assert.ok(sessions.resolve(b1.id), "another user's sessions stay");
  clock.now += SESSION_IDLE_MS + 1;
  assert.equal(sessions.sweep(), 1);
});

test('a session of a disabled account resolves marked disabled, asked anew on every use', () => {
  const users = new Map([[2, { username: 'bob', role: 'peer' as const }]]);
  const off = new Set<string>();
  const sessions = new Sessions(memoryStore(users).store, Date.now, (name) => off.has(name));
  const b = sessions.create(2, 's');
  assert.equal(sessions.resolve(b.id)?.disabled, undefined);
  off.add('bob');
  assert.equal(sessions.resolve(b.id)?.disabled, true, 'at once, with no new login');
  off.delete('bob');
  assert.equal(sessions.resolve(b.id)?.disabled, undefined, 'and works again once enabled');
});
