import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDb } from '../../drivers/db.ts';
import { SessionsStore } from '../../drivers/store/sessions-store.ts';
import { UsersStore } from '../../drivers/store/users-store.ts';
import { hashId, SESSION_IDLE_MS, SESSION_TTL_MS, Sessions } from './sessions.ts';

function setup() {
  const db = openDb(':memory:');
  const users = new UsersStore(db);
  const alice = users.insert('alice', 'admin', 'x');
  const bob = users.insert('bob', 'peer', 'x');
  const clock = { now: 1_700_000_000_000 };
  const sessions = new Sessions(new SessionsStore(db), () => clock.now);
  return { db, users, alice, bob, clock, sessions };
}

test('create returns a random id and CSRF token; the database holds only the id hash', () => {
  const { db, sessions, alice } = setup();
  const a = sessions.create(alice, '10.0.0.2');
  const b = sessions.create(alice, '10.0.0.2');
  assert.notEqual(a.id, b.id);
  assert.notEqual(a.csrfToken, b.csrfToken);
  assert.ok(a.id.length >= 43);
  const rows = db.prepare('SELECT * FROM sessions').all() as Array<Record<string, unknown>>;
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

test('deleting a user deletes their sessions (foreign key cascade)', () => {
  const { sessions, users, bob } = setup();
  const b = sessions.create(bob, 's');
  users.delete('bob');
  assert.equal(sessions.resolve(b.id), undefined);
});
