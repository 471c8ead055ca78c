// The certificate authority through the API, checked by the real OpenSSL (argv, no shell): issued
// certificates verify against the root and intermediate; a revoked one fails `-crl_check` while
// another still passes; keys are 0600 and an issued key is in its 201 answer and nowhere else.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HOSTILE_STRINGS } from '../schema/hostile.ts';
import { authed, completeSetup, type Kit, type Login, login, makeKit } from './test-kit.ts';

function openssl(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8', shell: false, timeout: 20_000 });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

const certBlocks = (pem: string) =>
  pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g) ?? [];

describe('vault', () => {
  let kit: Kit;
  let admin: Login;
  let peer: Login;
  let work: string;
  const issued: Array<{
    id: number;
    serial: string;
    certificate: string;
    chain: string;
    private_key: string;
  }> = [];
  const issue = (payload: unknown, who: Login = admin) =>
    kit.app.inject({
      method: 'POST',
      url: '/api/vault/certs',
      headers: authed(who),
      payload: payload as object,
    });

  before(async () => {
    kit = await makeKit();
    admin = await completeSetup(kit);
    await kit.cell.deps.auth.createUser('pat', 'peer', 'peer password 123');
    peer = await login(kit.app, 'pat', 'peer password 123');
    work = kit.dir;
  });
  after(() => kit.close());

  test('the root is public PEM; the CA keys are in an owner-only file', async () => {
    const r = await kit.app.inject({ url: '/api/vault/ca.crt' });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.headers['content-type'], 'application/x-pem-file');
    assert.match(String(r.headers['content-disposition']), /^attachment; filename="pic-home-root-ca\.crt"$/);
    assert.equal(certBlocks(r.body).length, 1);
    assert.ok(!r.body.includes('PRIVATE'));
    writeFileSync(join(work, 'root.pem'), r.body);
    const text = openssl(['x509', '-in', join(work, 'root.pem'), '-noout', '-text']).out;
    assert.match(text, /CA:TRUE, pathlen:1/);
    assert.match(text, /ASN1 OID: prime256v1/);
    const dir = join(kit.cell.paths.secrets, 'vault');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, 'ca.pem')).mode & 0o777, 0o600);
    const again = await kit.app.inject({ url: '/api/vault/ca.crt', headers: authed(peer) });
    assert.equal(again.body, r.body, 'made once');
  });

  test('an issued certificate verifies with openssl against the root and the intermediate', async () => {
    const r = await issue({
      common_name: 'nas.home.cell',
      sans: ['*.home.cell', '10.0.0.5', 'fd00::5'],
      days: 30,
    });
    assert.equal(r.statusCode, 201, r.body);
    const body = r.json();
    assert.deepEqual(Object.keys(body).sort(), ['certificate', 'chain', 'id', 'private_key', 'serial']);
    issued.push(body);
    assert.equal(certBlocks(body.chain).length, 2);
    const [intermediate, root] = certBlocks(body.chain);
    assert.equal(root, readFileSync(join(work, 'root.pem'), 'utf8'));
    writeFileSync(join(work, 'intermediate.pem'), intermediate!);
    writeFileSync(join(work, 'a.pem'), body.certificate);
    writeFileSync(join(work, 'a.key'), body.private_key, { mode: 0o600 });
    const v = openssl([
      'verify',
      '-CAfile',
      join(work, 'root.pem'),
      '-untrusted',
      join(work, 'intermediate.pem'),
      '-purpose',
      'sslserver',
      join(work, 'a.pem'),
    ]);
    assert.ok(v.ok, v.out);
    for (const [flag, value] of [
      ['-checkhost', 'nas.home.cell'],
      ['-checkhost', 'calendar.home.cell'],
      ['-checkip', '10.0.0.5'],
      ['-checkip', 'fd00::5'],
    ] as const) {
      const c = openssl(['x509', '-in', join(work, 'a.pem'), '-noout', flag, value]);
      assert.match(c.out, / does match certificate/, `${flag} ${value}: ${c.out}`);
    }
    const text = openssl(['x509', '-in', join(work, 'a.pem'), '-noout', '-text']).out;
    assert.match(text, /TLS Web Server Authentication/);
    assert.doesNotMatch(text, /TLS Web Client Authentication/);
    assert.match(text, /CA:FALSE/);
    // The key is the certificate's.
    const pubOfKey = openssl(['pkey', '-in', join(work, 'a.key'), '-pubout']).out;
    const pubOfCert = openssl(['x509', '-in', join(work, 'a.pem'), '-noout', '-pubkey']).out;
    assert.equal(pubOfKey, pubOfCert);
  });

  test('revoked: openssl -crl_check refuses it while another certificate still passes', async () => {
    const b = await issue({ common_name: 'printer.home.cell', client_auth: true });
    assert.equal(b.statusCode, 201, b.body);
    issued.push(b.json());
    writeFileSync(join(work, 'b.pem'), b.json().certificate);
    const first = issued[0]!;
    const r = await kit.app.inject({
      method: 'POST',
      url: `/api/vault/certs/${first.id}/revoke`,
      headers: authed(admin),
      payload: { reason: 'keyCompromise' },
    });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().status, 'revoked');
    assert.equal(r.json().reason, 'keyCompromise');
    const crl = await kit.app.inject({ url: '/api/vault/crl' });
    assert.equal(crl.statusCode, 200);
    assert.equal(crl.headers['content-type'], 'application/pkix-crl');
    assert.equal(crl.rawPayload[0], 0x30, 'DER');
    writeFileSync(join(work, 'crl.der'), crl.rawPayload);
    const conv = openssl([
      'crl',
      '-inform',
      'DER',
      '-in',
      join(work, 'crl.der'),
      '-out',
      join(work, 'crl.pem'),
    ]);
    assert.ok(conv.ok, conv.out);
    const info = openssl(['crl', '-in', join(work, 'crl.pem'), '-noout', '-crlnumber', '-issuer']).out;
    assert.match(info, /crlNumber=0x01/);
    assert.match(info, /Intermediate CA/);
    const verify = (leaf: string) =>
      openssl([
        'verify',
        '-crl_check',
        '-CAfile',
        join(work, 'root.pem'),
        '-untrusted',
        join(work, 'intermediate.pem'),
        '-CRLfile',
        join(work, 'crl.pem'),
        join(work, leaf),
      ]);
    const revoked = verify('a.pem');
    assert.equal(revoked.ok, false);
    assert.match(revoked.out, /certificate revoked/);
    const fine = verify('b.pem');
    assert.ok(fine.ok, fine.out);
    // Revoking another signs the next CRL number.
    const r2 = await kit.app.inject({
      method: 'POST',
      url: `/api/vault/certs/${issued[1]!.serial}/revoke`,
      headers: authed(admin),
    });
    assert.equal(r2.statusCode, 200, r2.body);
    writeFileSync(join(work, 'crl2.der'), (await kit.app.inject({ url: '/api/vault/crl' })).rawPayload);
    assert.match(
      openssl(['crl', '-inform', 'DER', '-in', join(work, 'crl2.der'), '-noout', '-crlnumber']).out,
      /0x02/,
    );
  });

  test('revoking twice is 409, an unknown id 404, a bad id or reason 400', async () => {
    const url = `/api/vault/certs/${issued[0]!.id}/revoke`;
    const twice = await kit.app.inject({ method: 'POST', url, headers: authed(admin) });
    assert.equal(twice.statusCode, 409);
    const unknown = await kit.app.inject({
      method: 'POST',
      url: '/api/vault/certs/999/revoke',
      headers: authed(admin),
    });
    assert.equal(unknown.statusCode, 404);
    for (const id of ['..%2f1', '1%0a', '%7Benv.HOME%7D', "1'"]) {
      const r = await kit.app.inject({
        method: 'POST',
        url: `/api/vault/certs/${id}/revoke`,
        headers: authed(admin),
      });
      assert.ok(r.statusCode === 400 || r.statusCode === 404, `${id} → ${r.statusCode}`);
    }
    const reason = await kit.app.inject({
      method: 'POST',
      url,
      headers: authed(admin),
      payload: { reason: 'x\ny' },
    });
    assert.equal(reason.statusCode, 400);
    assert.deepEqual(
      reason.json().fields.map((f: { field: string }) => f.field),
      ['reason'],
    );
  });

  test('bad fields answer 400 naming the field', async () => {
    const cases: Array<[object, string]> = [
      [{}, 'common_name'],
      [{ common_name: '*.cell' }, 'common_name'],
      [{ common_name: 'a.cell', sans: ['ok.cell', '../../etc/passwd'] }, 'sans.1'],
      [{ common_name: 'a.cell', sans: 'a.cell' }, 'sans'],
      [{ common_name: 'a.cell', days: 0 }, 'days'],
      [{ common_name: 'a.cell', days: 826 }, 'days'],
      [{ common_name: 'a.cell', days: '30' }, 'days'],
      [{ common_name: 'a.cell', private_key: 'x' }, 'private_key'],
    ];
    for (const h of HOSTILE_STRINGS) cases.push([{ common_name: h }, 'common_name']);
    for (const h of ['a.cell\nb', 'a"b.cell', '{env.HOME}', '..', '$(id).cell'])
      cases.push([{ common_name: 'ok.cell', sans: [h] }, 'sans.0']);
    for (const [payload, field] of cases) {
      const r = await issue(payload);
      assert.equal(r.statusCode, 400, `${JSON.stringify(payload)}: ${r.body}`);
      assert.deepEqual(
        r.json().fields.map((f: { field: string }) => f.field),
        [field],
        JSON.stringify(payload),
      );
    }
  });

  test('roles: anonymous 401, a peer 403, no CSRF token 403; the root and CRL stay public', async () => {
    for (const [method, url] of [
      ['GET', '/api/vault/certs'],
      ['POST', '/api/vault/certs'],
      ['POST', '/api/vault/certs/1/revoke'],
    ] as const) {
      const anon = await kit.app.inject({ method, url, payload: method === 'POST' ? {} : undefined });
      assert.equal(anon.statusCode, 401, `${method} ${url}`);
      const p = await kit.app.inject({
        method,
        url,
        headers: authed(peer),
        payload: method === 'POST' ? {} : undefined,
      });
      assert.equal(p.statusCode, 403, `${method} ${url}`);
    }
    const noCsrf = await kit.app.inject({
      method: 'POST',
      url: '/api/vault/certs',
      headers: { cookie: admin.cookie },
      payload: { common_name: 'x.home.cell' },
    });
    assert.equal(noCsrf.statusCode, 403);
    assert.equal(noCsrf.json().error, 'csrf_failed');
    for (const url of ['/api/vault/ca.crt', '/api/vault/crl'])
      assert.equal((await kit.app.inject({ url })).statusCode, 200, url);
  });

  test('the list carries no key; no issued key is in any file, log line or audit row', async () => {
    const r = await kit.app.inject({ url: '/api/vault/certs', headers: authed(admin) });
    assert.equal(r.statusCode, 200);
    const list = r.json();
    assert.equal(list.length, 2);
    assert.deepEqual(
      list.map((c: { status: string }) => c.status),
      ['revoked', 'revoked'],
    );
    assert.ok(!r.body.includes('PRIVATE KEY'));
    const bodies = issued.map((c) => c.private_key.split('\n')[1]!);
    const files = readdirSync(join(kit.dir, 'data'), { recursive: true, withFileTypes: true }).filter((d) =>
      d.isFile(),
    );
    for (const f of files) {
      const content = readFileSync(join(f.parentPath, f.name));
      for (const b of bodies) assert.ok(!content.includes(b), `${f.name} holds an issued key`);
    }
    // The CA's own keys are in ca.pem and nowhere else.
    const caFile = join(kit.cell.paths.secrets, 'vault', 'ca.pem');
    const caKeys = [...readFileSync(caFile, 'utf8').matchAll(/PRIVATE KEY-----\n(.+)\n/g)].map((m) => m[1]!);
    assert.equal(caKeys.length, 2);
    for (const f of files) {
      if (join(f.parentPath, f.name) === caFile) continue;
      const content = readFileSync(join(f.parentPath, f.name));
      for (const k of caKeys) assert.ok(!content.includes(k), `${f.name} holds a CA key`);
    }
    const rows = kit.cell.db.prepare('SELECT * FROM audit').all();
    const trail = JSON.stringify(rows);
    assert.ok(!trail.includes('PRIVATE'));
    assert.ok(rows.some((a) => a.action === 'POST /api/vault/certs' && a.target === 'cn=nas.home.cell'));
    assert.ok(rows.some((a) => a.action === 'certificate authority created' && a.source === 'vault'));
    assert.ok(rows.some((a) => a.action === 'POST /api/vault/certs/:id/revoke' && a.outcome === 'success'));
  });

  test("serverCertificate: the cell's own certificate, kept 0600 and verified by openssl", async () => {
    const names = ['home.cell', '*.home.cell', '10.0.0.1'];
    const s = await kit.cell.deps.vault.serverCertificate(names);
    const again = await kit.cell.deps.vault.serverCertificate(names);
    assert.equal(again.serial, s.serial);
    assert.equal(statSync(join(kit.cell.paths.secrets, 'vault', 'server.pem')).mode & 0o777, 0o600);
    writeFileSync(join(work, 'server.pem'), s.certPem);
    writeFileSync(join(work, 'server-chain.pem'), s.chainPem);
    const v = openssl([
      'verify',
      '-CAfile',
      join(work, 'root.pem'),
      '-untrusted',
      join(work, 'server-chain.pem'),
      join(work, 'server.pem'),
    ]);
    assert.ok(v.ok, v.out);
    const list = (await kit.app.inject({ url: '/api/vault/certs', headers: authed(admin) })).json();
    assert.equal(list[0].purpose, 'server');
    assert.deepEqual(list[0].sans, names);
  });
});
