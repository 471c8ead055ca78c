// The store's trusted keys through the API (inject, a real database): list with the bundled one, add an
// ECDSA P-256 key (201), refuse everything else (400 naming pem), a duplicate in another spelling
// (409), delete (404 unknown, 409 bundled), admin only, audited by id; and the keys verification
// uses at each install follow the list without a restart.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { authed, completeSetup, type Kit, type Login, makeKit } from './test-kit.ts';

const ec = (curve: string) => generateKeyPairSync('ec', { namedCurve: curve });
const pem = (k: ReturnType<typeof ec>['publicKey']) => k.export({ type: 'spki', format: 'pem' }).toString();
const idOf = (k: ReturnType<typeof ec>['publicKey']) =>
  createHash('sha256')
    .update(k.export({ type: 'spki', format: 'der' }))
    .digest('hex');

describe('store keys API', () => {
  let kit: Kit;
  let admin: Login;
  const keysDir = mkdtempSync(join(tmpdir(), 'pic-keys-'));
  const bundled = ec('prime256v1').publicKey;

  before(async () => {
    mkdirSync(keysDir, { recursive: true });
    writeFileSync(join(keysDir, 'pic-store.pub'), pem(bundled));
    writeFileSync(join(keysDir, 'notes.txt'), 'not a key');
    kit = await makeKit({}, { storeKeysDir: keysDir });
    admin = await completeSetup(kit);
  });
  after(async () => {
    await kit.close();
    rmSync(keysDir, { recursive: true, force: true });
  });

  const list = async () => {
    const res = await kit.app.inject({ method: 'GET', url: '/api/store/keys', headers: authed(admin) });
    assert.equal(res.statusCode, 200, res.body);
    return res.json().keys as Array<{ id: string; pem: string; added_at: string | null; bundled: boolean }>;
  };
  const add = (body: unknown) =>
    kit.app.inject({
      method: 'POST',
      url: '/api/store/keys',
      payload: body as object,
      headers: authed(admin),
    });

  test('the bundled key is listed, undeletable', async () => {
    const keys = await list();
    assert.equal(keys.length, 1);
    assert.deepEqual(keys[0], { id: idOf(bundled), pem: pem(bundled), added_at: null, bundled: true });
    const del = await kit.app.inject({
      method: 'DELETE',
      url: `/api/store/keys/${idOf(bundled)}`,
      headers: authed(admin),
    });
    assert.equal(del.statusCode, 409, del.body);
    assert.match(del.json().message, /bundled/);
  });

  test('an ECDSA P-256 key is added (201), listed, trusted by verification, then deleted', async () => {
    const k = ec('prime256v1').publicKey;
    const res = await add({ pem: `\n${pem(k)}\n` });
    assert.equal(res.statusCode, 201, res.body);
    const body = res.json();
    assert.equal(body.id, idOf(k));
    assert.equal(body.bundled, false);
    assert.ok(body.added_at);
    assert.deepEqual(
      (await list()).map((x) => x.id),
      [idOf(bundled), idOf(k)],
    );
    assert.deepEqual(
      kit.cell.deps.storeKeys.trusted().map((t) => t.id),
      [idOf(bundled), idOf(k)],
    );
    const audit = kit.cell.db
      .prepare("SELECT action, target, outcome FROM audit WHERE action = 'POST /api/store/keys'")
      .all() as Array<{ target: string; outcome: string }>;
    assert.deepEqual(
      audit.map((a) => [a.target, a.outcome]),
      [[idOf(k), 'success']],
    );

    // The same key again, in another PEM spelling (different line breaks): 409.
    const b64 = pem(k)
      .replace(/-----[A-Z ]+-----|\s/g, '')
      .replace(/(.{40})/g, '$1\n');
    const dup = await add({ pem: `-----BEGIN PUBLIC KEY-----\n${b64}\n-----END PUBLIC KEY-----\n` });
    assert.equal(dup.statusCode, 409, dup.body);
    assert.equal((await add({ pem: pem(bundled) })).statusCode, 409, 'the bundled key is trusted already');

    const del = await kit.app.inject({
      method: 'DELETE',
      url: `/api/store/keys/${idOf(k)}`,
      headers: authed(admin),
    });
    assert.equal(del.statusCode, 200, del.body);
    assert.deepEqual(
      kit.cell.deps.storeKeys.trusted().map((t) => t.id),
      [idOf(bundled)],
    );
    const again = await kit.app.inject({
      method: 'DELETE',
      url: `/api/store/keys/${idOf(k)}`,
      headers: authed(admin),
    });
    assert.equal(again.statusCode, 404);
    const badId = await kit.app.inject({
      method: 'DELETE',
      url: '/api/store/keys/..%2Fx',
      headers: authed(admin),
    });
    assert.equal(badId.statusCode, 400);
  });

  test('anything but an ECDSA P-256 public key is 400 naming pem', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ed = generateKeyPairSync('ed25519');
    const p256 = ec('prime256v1');
    const cases: Record<string, unknown> = {
      rsa: pem(rsa.publicKey),
      p384: pem(ec('secp384r1').publicKey),
      ed25519: ed.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      private: p256.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      garbage: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n',
      text: 'hello',
      empty: '',
      huge: `-----BEGIN PUBLIC KEY-----\n${'A'.repeat(5000)}\n-----END PUBLIC KEY-----\n`,
      number: 42,
      injected: `${pem(p256.publicKey)}-----BEGIN PUBLIC KEY-----\n<script>\n-----END PUBLIC KEY-----`,
    };
    for (const [name, value] of Object.entries(cases)) {
      const res = await add({ pem: value });
      assert.equal(res.statusCode, 400, `${name}: ${res.body}`);
      assert.deepEqual(
        res.json().fields.map((f: { field: string }) => f.field),
        ['pem'],
        name,
      );
    }
    const rsaRes = await add({ pem: pem(rsa.publicKey) });
    assert.match(rsaRes.json().fields[0].message, /ECDSA P-256/);
    assert.equal((await add({ pem: pem(p256.publicKey), extra: 1 })).statusCode, 400, 'unknown keys');
    assert.equal((await list()).length, 1, 'nothing was added');
  });

  test('admin only', async () => {
    for (const [method, url] of [
      ['GET', '/api/store/keys'],
      ['POST', '/api/store/keys'],
      ['DELETE', `/api/store/keys/${'a'.repeat(64)}`],
    ] as const) {
      const res = await kit.app.inject({
        method,
        url,
        ...(method === 'POST' ? { payload: { pem: 'x' } } : {}),
      });
      assert.equal(res.statusCode, 401, `${method} ${url}`);
    }
  });
});
