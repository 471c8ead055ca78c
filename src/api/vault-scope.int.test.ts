// The CA's name constraints where they matter, on the device, checked by the real OpenSSL (argv, no
// shell): the root and the intermediate permit only `.cell` names and private addresses; the API
// refuses anything else before signing (400 naming the field); a leaf for bank.example.com that the
// test forges with the CA's own keys read from the vault (past the API), under the intermediate or
// under a new unconstrained intermediate signed by the root, is refused by `openssl verify`. A public
// mode's fallback is a self-signed certificate for its names that a TLS client accepts once it
// trusts it, and that the cell's root does not vouch for. ADR 0016, "Name constraints".
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createServer } from 'node:tls';
import { authed, completeSetup, type Kit, type Login, makeKit } from './test-kit.ts';

function openssl(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8', shell: false, timeout: 20_000 });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

/** Async: a TLS server in this process must keep answering while the command runs. */
const opensslAsync = (args: string[]) =>
  new Promise<{ ok: boolean; out: string }>((resolve) => {
    const child = execFile('openssl', args, { encoding: 'utf8', timeout: 20_000 }, (err, stdout, stderr) =>
      resolve({ ok: !err, out: `${stdout}${stderr}` }),
    );
    child.stdin?.end();
  });

const certBlocks = (pem: string) =>
  pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g) ?? [];

describe('the CA vouches only for .cell names and private addresses', () => {
  let kit: Kit;
  let admin: Login;
  let work: string;
  const issue = (payload: object) =>
    kit.app.inject({ method: 'POST', url: '/api/vault/certs', headers: authed(admin), payload });

  before(async () => {
    kit = await makeKit();
    admin = await completeSetup(kit);
    work = kit.dir;
    writeFileSync(join(work, 'root.pem'), (await kit.app.inject({ url: '/api/vault/ca.crt' })).body);
  });
  after(() => kit.close());

  test('name constraints: printer.home.cell verifies, bank.example.com forged with the CA keys is refused', async () => {
    const r = await issue({ common_name: 'printer.home.cell', sans: ['192.168.1.20', '127.0.0.1'] });
    assert.equal(r.statusCode, 201, r.body);
    writeFileSync(join(work, 'printer.pem'), r.json().certificate);
    writeFileSync(join(work, 'intermediate.pem'), certBlocks(r.json().chain)[0]!);
    for (const f of ['root.pem', 'intermediate.pem']) {
      const ext = openssl(['x509', '-in', join(work, f), '-noout', '-ext', 'nameConstraints']).out;
      assert.match(ext, /X509v3 Name Constraints: critical/, f);
      const permitted = ext.split('Permitted:')[1]?.trim().split(/\s+/);
      assert.deepEqual(
        permitted,
        [
          'DNS:cell',
          'IP:10.0.0.0/255.0.0.0',
          'IP:172.16.0.0/255.240.0.0',
          'IP:192.168.0.0/255.255.0.0',
          'IP:100.64.0.0/255.192.0.0',
          'IP:127.0.0.0/255.0.0.0',
          'IP:FC00:0:0:0:0:0:0:0/FE00:0:0:0:0:0:0:0',
          'IP:0:0:0:0:0:0:0:1/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF',
        ],
        f,
      );
    }
    const verify = (leaf: string, chain = 'intermediate.pem') =>
      openssl([
        'verify',
        '-CAfile',
        join(work, 'root.pem'),
        '-untrusted',
        join(work, chain),
        '-purpose',
        'sslserver',
        join(work, leaf),
      ]);
    const good = verify('printer.pem');
    assert.ok(good.ok, good.out);

    // The API refuses before signing; the list does not grow.
    const before = (await kit.app.inject({ url: '/api/vault/certs', headers: authed(admin) })).json().length;
    for (const [payload, fields] of [
      [{ common_name: 'bank.example.com' }, ['common_name']],
      [
        { common_name: 'nas.home.cell', sans: ['10.0.0.9', '203.0.113.8', 'bank.example.com'] },
        ['sans.1', 'sans.2'],
      ],
      [{ common_name: 'home.cell.example.com', sans: ['2001:db8::1'] }, ['common_name', 'sans.0']],
    ] as const) {
      const bad = await issue(payload);
      assert.equal(bad.statusCode, 400, bad.body);
      assert.deepEqual(
        bad.json().fields.map((f: { field: string }) => f.field),
        fields,
      );
      assert.match(bad.json().message, /only issues for names under \.cell and private addresses/);
    }
    const now = (await kit.app.inject({ url: '/api/vault/certs', headers: authed(admin) })).json().length;
    assert.equal(now, before);

    // The device's side: the test signs with the CA's own keys, read from the vault, past the API.
    const caText = readFileSync(join(kit.cell.paths.secrets, 'vault', 'ca.pem'), 'utf8');
    const keys = caText.match(/-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n/g) ?? [];
    assert.equal(keys.length, 2);
    writeFileSync(join(work, 'forge-root.key'), keys[0]!, { mode: 0o600 });
    writeFileSync(join(work, 'forge-intermediate.key'), keys[1]!, { mode: 0o600 });
    let serial = 0x5a00;
    const forge = (out: string, cn: string, ext: string, ca: string, caKey: string) => {
      const key = join(work, `${out}.key`);
      for (const args of [
        ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key],
        ['req', '-new', '-key', key, '-subj', `/CN=${cn}`, '-out', join(work, `${out}.csr`)],
      ]) {
        const g = openssl(args);
        assert.ok(g.ok, g.out);
      }
      writeFileSync(join(work, `${out}.ext`), ext);
      const s = openssl([
        'x509',
        '-req',
        '-in',
        join(work, `${out}.csr`),
        '-CA',
        join(work, ca),
        '-CAkey',
        join(work, caKey),
        '-set_serial',
        `0x${(serial++).toString(16)}`,
        '-days',
        '30',
        '-extfile',
        join(work, `${out}.ext`),
        '-out',
        join(work, `${out}.pem`),
      ]);
      assert.ok(s.ok, s.out);
    };
    const leafExt = (san: string) =>
      `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`;
    // Control: the forging itself is sound (an in-scope name forged the same way passes).
    forge(
      'forged-ok',
      'printer2.home.cell',
      leafExt('DNS:printer2.home.cell'),
      'intermediate.pem',
      'forge-intermediate.key',
    );
    const control = verify('forged-ok.pem');
    assert.ok(control.ok, control.out);
    forge(
      'forged-bank',
      'bank.example.com',
      leafExt('DNS:bank.example.com'),
      'intermediate.pem',
      'forge-intermediate.key',
    );
    const bank = verify('forged-bank.pem');
    assert.equal(bank.ok, false, 'a leaf for bank.example.com must not verify');
    assert.match(bank.out, /permitted subtree violation/);
    forge(
      'forged-ip',
      'printer3.home.cell',
      leafExt('DNS:printer3.home.cell,IP:203.0.113.8'),
      'intermediate.pem',
      'forge-intermediate.key',
    );
    const ip = verify('forged-ip.pem');
    assert.equal(ip.ok, false);
    assert.match(ip.out, /permitted subtree violation/);
    // An intermediate without constraints made with the root key: the root's own constraints still hold.
    forge(
      'rogue-intermediate',
      'Rogue CA',
      'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n',
      'root.pem',
      'forge-root.key',
    );
    forge(
      'rogue-bank',
      'bank.example.com',
      leafExt('DNS:bank.example.com'),
      'rogue-intermediate.pem',
      'rogue-intermediate.key',
    );
    const rogue = verify('rogue-bank.pem', 'rogue-intermediate.pem');
    assert.equal(rogue.ok, false, 'the root refuses it too');
    assert.match(rogue.out, /permitted subtree violation/);
  });
});

describe('a public mode before its ACME certificate: the self-signed fallback', () => {
  let kit: Kit;
  let admin: Login;
  const DOMAIN = 'home.example.org';

  before(async () => {
    // No tick (it would order from Let's Encrypt); nothing here is contacted.
    kit = await makeKit({}, { background: false });
    admin = await completeSetup(kit, { domain_mode: 'custom', domain: DOMAIN });
    const s = await kit.app.inject({
      method: 'PUT',
      url: '/api/tls/settings',
      headers: authed(admin),
      payload: { directory_url: 'http://127.0.0.1:9/directory' },
    });
    assert.equal(s.statusCode, 200, s.body);
  });
  after(() => kit.close());

  test('custom mode serves a self-signed certificate for its names that a TLS client accepts once trusted', async () => {
    const served = await kit.cell.deps.tls.certificate();
    assert.equal(served.source, 'local');
    assert.equal(served.fallback, true);
    assert.deepEqual(served.names, [DOMAIN, `*.${DOMAIN}`]);
    assert.equal(served.chainPem, '');
    const status = await kit.app.inject({ url: '/api/tls/status', headers: authed(admin) });
    assert.equal(status.statusCode, 200, status.body);
    assert.equal(status.json().fallback, true);
    assert.match(status.json().issuer, /CN=home\.example\.org/);
    const work = kit.dir;
    writeFileSync(join(work, 'fallback.pem'), served.certPem);
    writeFileSync(join(work, 'root.pem'), await kit.cell.deps.vault.rootPem());
    const text = openssl(['x509', '-in', join(work, 'fallback.pem'), '-noout', '-text']).out;
    assert.match(text, /CA:FALSE/);
    for (const host of [DOMAIN, `www.${DOMAIN}`]) {
      const c = openssl(['x509', '-in', join(work, 'fallback.pem'), '-noout', '-checkhost', host]);
      assert.match(c.out, / does match certificate/, c.out);
    }
    // Not the CA's: its root does not vouch for the public name.
    const byRoot = openssl(['verify', '-CAfile', join(work, 'root.pem'), join(work, 'fallback.pem')]);
    assert.equal(byRoot.ok, false, byRoot.out);

    // HTTPS works with it: a TLS handshake that trusts this certificate verifies the host name.
    const server = createServer({ cert: served.certPem, key: served.keyPem }, (s) => s.end('ok\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as { port: number };
      const hs = await opensslAsync([
        's_client',
        '-connect',
        `127.0.0.1:${port}`,
        '-servername',
        DOMAIN,
        '-verify_hostname',
        DOMAIN,
        '-CAfile',
        join(work, 'fallback.pem'),
        '-verify_return_error',
      ]);
      // Judged by the verification line, not the exit status: the server ends the connection right
      // after its reply, and s_client may exit non-zero on that close (after a verified handshake).
      // -verify_return_error stops the handshake, and this line, on any verification failure.
      assert.match(hs.out, /Verify return code: 0 \(ok\)/, hs.out);
      assert.doesNotMatch(hs.out, /verify error/i, hs.out);
    } finally {
      await new Promise((r) => server.close(r));
    }
    // The same certificate while the names stay; pic_ngo's names get their own.
    assert.equal((await kit.cell.deps.tls.certificate()).certPem, served.certPem);
    const ngo = await kit.cell.deps.tls.certificateFor({ domain_mode: 'pic_ngo', domain: 'home.pic.ngo' });
    assert.equal(ngo.fallback, true);
    assert.deepEqual(ngo.names, ['home.pic.ngo', '*.home.pic.ngo']);
    writeFileSync(join(work, 'ngo.pem'), ngo.certPem);
    const check = openssl(['x509', '-in', join(work, 'ngo.pem'), '-noout', '-checkhost', 'home.pic.ngo']);
    assert.match(check.out, / does match certificate/);
    // Local mode still gets the CA's certificate for <cell_name>.cell.
    const local = await kit.cell.deps.tls.certificateFor({ domain_mode: 'local', domain: 'home.cell' });
    assert.equal(local.fallback, false);
    writeFileSync(join(work, 'local.pem'), local.certPem);
    writeFileSync(join(work, 'local-chain.pem'), local.chainPem);
    const v = openssl([
      'verify',
      '-CAfile',
      join(work, 'root.pem'),
      '-untrusted',
      join(work, 'local-chain.pem'),
      join(work, 'local.pem'),
    ]);
    assert.ok(v.ok, v.out);
  });
});
