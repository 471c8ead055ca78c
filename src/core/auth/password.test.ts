import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPasswordHasher, DEFAULT_PARAMS, dummyHash, randomPassword } from './password.ts';

const hasher = createPasswordHasher();
const hashPassword = (p: string) => hasher.hash(p);
const verifyPassword = (p: string, h: string) => hasher.verify(p, h);

test('production parameters are OWASP Argon2id (19 MiB, t=2, p=1)', () => {
  assert.deepEqual(DEFAULT_PARAMS, { memory: 19456, passes: 2, parallelism: 1 });
});

test('hash then verify; PHC form with the parameters and a random salt', async () => {
  const h = await hashPassword('correct horse battery');
  assert.match(h, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.equal(await verifyPassword('correct horse battery', h), true);
  assert.notEqual(await hashPassword('correct horse battery'), h, 'salted');
  assert.ok(!h.includes('correct'));
});

test('wrong password, empty password and near misses fail', async () => {
  const h = await hashPassword('correct horse battery');
  for (const p of ['correct horse batter', 'Correct horse battery', '', 'correct horse battery ']) {
    assert.equal(await verifyPassword(p, h), false, p);
  }
});

test('malformed or foreign hashes never verify and never throw', async () => {
  const h = await hashPassword('pw-pw-pw-pw-pw');
  for (const bad of [
    '',
    'plaintext',
    '$2b$10$abcdefghijklmnopqrstuv', // bcrypt
    h.replace('argon2id', 'argon2i'),
    h.replace('v=19', 'v=16'),
    h.replace('m=19456', 'm=0'), // Argon2 refuses: must be false, not a 500
    h.replace('t=2', 't=0'),
    `${h}$extra`,
    h.slice(0, -5),
  ]) {
    assert.equal(await verifyPassword('pw-pw-pw-pw-pw', bad), false, bad);
  }
});

test('the dummy hash costs one Argon2 run and matches nothing', async () => {
  const before = hasher.stats.calls;
  assert.equal(await verifyPassword('anything', dummyHash()), false);
  assert.equal(hasher.stats.calls - before, 1);
  assert.equal(dummyHash(), dummyHash());
  assert.match(dummyHash(), /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
});

test('hashing is capped: many concurrent hashes all finish correctly', async () => {
  const pws = Array.from({ length: 6 }, (_, i) => `password-number-${i}`);
  const hashes = await Promise.all(pws.map((p) => hashPassword(p)));
  const ok = await Promise.all(pws.map((p, i) => verifyPassword(p, hashes[i]!)));
  assert.deepEqual(
    ok,
    pws.map(() => true),
  );
});

test('each hasher counts its own Argon2 runs (no process-wide state)', async () => {
  const a = createPasswordHasher();
  const b = createPasswordHasher({ concurrency: 1 });
  await a.verify('x', dummyHash());
  assert.equal(a.stats.calls, 1);
  assert.equal(b.stats.calls, 0);
});

test('random passwords: 20 characters from an unambiguous alphabet, all different', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const p = randomPassword();
    assert.match(p, /^[a-hjkmnp-zA-HJKMNP-Z2-9]{20}$/);
    seen.add(p);
  }
  assert.equal(seen.size, 200);
});
