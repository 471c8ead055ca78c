// Backups through the API on a real cell (no Docker: `pic serve`'s case): the database, config and
// secrets go into an age file; a restore brings a deleted peer, its keys and the vault back, ends
// every session, and a restore that fails verification changes nothing.
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PASSWORD, authed, completeSetup, type Kit, type Login, login, makeKit } from './test-kit.ts';

const PASS = 'a long backup passphrase';

describe('backups', () => {
  let kit: Kit;
  let admin: Login;

  before(async () => {
    kit = await makeKit({}, { backup: { workFactor: 10, uploadMaxBytes: 4 * 1024 * 1024 } });
    admin = await completeSetup(kit);
  });
  after(() => kit.close());

  const api = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object, who: Login = admin) =>
    kit.app.inject({ method, url, headers: authed(who), ...(payload ? { payload } : {}) });

  async function finished(id: string) {
    for (let i = 0; i < 400; i++) {
      const r = await api('GET', `/api/config/backups/${id}`);
      // A restore ends every session once it has swapped the state in: log in again to follow it.
      if (r.statusCode === 401) {
        admin = await login(kit.app, 'admin', ADMIN_PASSWORD);
        continue;
      }
      if (r.statusCode !== 200) throw new Error(`poll: ${r.statusCode} ${r.body}`);
      const job = r.json().job;
      if (job && (job.phase === 'done' || job.phase === 'failed')) return job;
      await new Promise((res) => setTimeout(res, 25));
    }
    throw new Error('the job did not end');
  }

  test('an encrypted backup is an age file, 0600, listed with its size; a peer deleted after it comes back on restore', async () => {
    const made = await api('POST', '/api/peers', { name: 'laptop' });
    assert.equal(made.statusCode, 201, made.body);
    const before = (await api('GET', '/api/peers/laptop')).json();
    const ca = (await kit.app.inject({ url: '/api/vault/ca.crt' })).body;
    const serverKey = () =>
      api('GET', '/api/peers/laptop/config').then((r) => /^PublicKey = (.+)$/m.exec(r.json().config)?.[1]);
    const keyBefore = await serverKey();
    assert.ok(keyBefore);

    const r = await api('POST', '/api/config/backup', { passphrase: PASS });
    assert.equal(r.statusCode, 202, r.body);
    const id = r.json().backup_id as string;
    assert.match(id, /^backup-\d{8}-\d{6}-[0-9a-f]{6}$/);
    const job = await finished(id);
    assert.equal(job.phase, 'done', job.error);
    assert.ok(job.bytes_total > 0 && job.bytes_done === job.bytes_total);

    const list = (await api('GET', '/api/config/backups')).json();
    const item = list.backups.find((b: { backup_id: string }) => b.backup_id === id);
    assert.ok(item?.encrypted);
    const file = join(kit.cell.paths.data, 'backups', item.file);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(readFileSync(file).subarray(0, 21).toString(), 'age-encryption.org/v1');

    // Things change after the backup; the restore puts them back as they were.
    assert.equal((await api('DELETE', '/api/peers/laptop')).statusCode, 200);
    const wrong = await api('POST', `/api/config/restore/${id}`, { passphrase: 'not the right passphrase' });
    assert.equal(wrong.statusCode, 400, wrong.body);
    assert.equal(wrong.json().fields[0].field, 'passphrase');
    const none = await api('POST', `/api/config/restore/${id}`, {});
    assert.equal(none.statusCode, 400);
    assert.equal(
      (await api('GET', '/api/peers/laptop')).statusCode,
      404,
      'a refused restore changes nothing',
    );

    const stale = admin;
    const restore = await api('POST', `/api/config/restore/${id}`, { passphrase: PASS });
    assert.equal(restore.statusCode, 202, restore.body);
    const rjob = await finished(id);
    assert.equal(rjob.phase, 'done', rjob.error);
    assert.equal(rjob.kind, 'restore');

    // Every session ended (the poll above logged in again): the session from before is refused.
    assert.equal((await api('GET', '/api/auth/me', undefined, stale)).statusCode, 401);
    const after = (await api('GET', '/api/peers/laptop')).json();
    assert.equal(after.public_key, before.public_key);
    assert.equal(after.address, before.address);
    assert.equal((await kit.app.inject({ url: '/api/vault/ca.crt' })).body, ca, 'the same CA');
    assert.equal(await serverKey(), keyBefore, "the same server key in the peer's config");
    // The live audit trail is kept, not replaced by the backup's: what happened after it is still there.
    const audit = (await api('GET', '/api/logs/audit?limit=200')).json();
    const actions = audit.items as Array<{
      action: string;
      target: string | null;
    }>;
    assert.ok(
      actions.some((r) => r.action === 'backup created' && r.target === id),
      'the audit row of the backup itself (written after its snapshot) survives the restore',
    );
    assert.ok(actions.some((r) => r.action === 'backup restored'));
  });

  test('another cell (a fresh install) takes the backup: same server key, peers and CA', async () => {
    const r = await api('POST', '/api/config/backup', { passphrase: PASS });
    const id = r.json().backup_id;
    assert.equal((await finished(id)).phase, 'done');
    const archive = (await api('GET', `/api/config/backups/${id}/download`)).rawPayload;
    const peerConfig = (await api('GET', '/api/peers/laptop/config')).json().config as string;
    const other = await makeKit({}, { backup: { workFactor: 10 } });
    try {
      let owner = await completeSetup(other);
      const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
        other.app.inject({ method, url, headers: authed(owner), ...(payload ? { payload } : {}) });
      // The fresh cell has made (and read) a server key of its own before the restore.
      assert.equal((await call('POST', '/api/peers', { name: 'tmp' })).statusCode, 201);
      assert.equal((await call('GET', '/api/peers/tmp/config')).statusCode, 200);
      const up = await other.app.inject({
        method: 'POST',
        url: '/api/config/backups/upload',
        headers: { ...authed(owner), 'content-type': 'application/octet-stream' },
        payload: archive,
      });
      assert.equal(up.statusCode, 201, up.body);
      const uploaded = up.json().backup_id;
      assert.equal(
        (await call('POST', `/api/config/restore/${uploaded}`, { passphrase: PASS })).statusCode,
        202,
      );
      const job = await other.cell.deps.backups.wait(uploaded);
      assert.equal(job.phase, 'done', job.error ?? '');
      owner = await login(other.app, 'admin', ADMIN_PASSWORD);
      // The device's config, exported by the new cell, is the one the device already has.
      assert.equal((await call('GET', '/api/peers/laptop/config')).json().config, peerConfig);
    } finally {
      await other.close();
    }
  });

  test('download streams the file; upload stores it under a new id; delete removes it', async () => {
    const r = await api('POST', '/api/config/backup', {});
    const id = r.json().backup_id;
    assert.equal((await finished(id)).phase, 'done');
    const dl = await api('GET', `/api/config/backups/${id}/download`);
    assert.equal(dl.statusCode, 200);
    assert.match(String(dl.headers['content-disposition']), new RegExp(`${id}\\.tar\\.gz"`));
    assert.equal(dl.rawPayload[0], 0x1f);
    const up = await kit.app.inject({
      method: 'POST',
      url: '/api/config/backups/upload',
      headers: { ...authed(admin), 'content-type': 'application/octet-stream' },
      payload: dl.rawPayload,
    });
    assert.equal(up.statusCode, 201, up.body);
    const newId = up.json().backup_id;
    assert.notEqual(newId, id);
    const detail = (await api('GET', `/api/config/backups/${newId}`)).json();
    assert.equal(detail.backup.size, dl.rawPayload.length);
    assert.equal((await api('DELETE', `/api/config/backups/${newId}`)).statusCode, 204);
    assert.equal((await api('GET', `/api/config/backups/${newId}`)).statusCode, 404);
  });

  test('uploads: not an archive → 400, over the cap → 413, nothing stored', async () => {
    const count = () => (kit.cell.deps.backups.list().backups as unknown[]).length;
    const n = count();
    const junk = await kit.app.inject({
      method: 'POST',
      url: '/api/config/backups/upload',
      headers: { ...authed(admin), 'content-type': 'application/octet-stream' },
      payload: Buffer.from('hello, not a backup'),
    });
    assert.equal(junk.statusCode, 400, junk.body);
    const big = await kit.app.inject({
      method: 'POST',
      url: '/api/config/backups/upload',
      headers: { ...authed(admin), 'content-type': 'application/octet-stream' },
      payload: Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(5 * 1024 * 1024)]),
    });
    assert.equal(big.statusCode, 413, big.body);
    assert.equal(count(), n);
  });

  test('ids with paths in them are refused; unknown ids are 404', async () => {
    for (const bad of ['..%2F..%2Fetc%2Fpasswd', 'backup-20261203-141500-abcdef%00', '..', 'backup-x']) {
      const r = await api('GET', `/api/config/backups/${bad}`);
      assert.ok(r.statusCode === 400 || r.statusCode === 404, `${bad}: ${r.statusCode}`);
    }
    assert.equal((await api('GET', '/api/config/backups/backup-20000101-000000-000000')).statusCode, 404);
    assert.equal(
      (await api('POST', '/api/config/restore/backup-20000101-000000-000000', {})).statusCode,
      404,
    );
  });

  test('a short passphrase is refused naming the field', async () => {
    const r = await api('POST', '/api/config/backup', { passphrase: 'short' });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().fields[0].field, 'passphrase');
  });

  test('an altered archive is refused at verification and the cell is unchanged', async () => {
    const r = await api('POST', '/api/config/backup', {});
    const id = r.json().backup_id;
    assert.equal((await finished(id)).phase, 'done');
    await api('POST', '/api/peers', { name: 'phone' });
    const item = kit.cell.deps.backups.list().backups.find((b) => b.backup_id === id)!;
    const file = join(kit.cell.paths.data, 'backups', item.file);
    const bytes = readFileSync(file);
    bytes[bytes.length - 20]! ^= 0xff; // inside the gzip trailer/last block: a damaged archive
    writeFileSync(file, bytes);
    const res = await api('POST', `/api/config/restore/${id}`, {});
    assert.equal(res.statusCode, 202);
    const job = await finished(id);
    assert.equal(job.phase, 'failed');
    assert.ok(job.error);
    assert.equal((await api('GET', '/api/peers/phone')).statusCode, 200, 'nothing changed');
    assert.equal((await api('GET', '/api/auth/me')).statusCode, 200, 'sessions kept');
  });
});
