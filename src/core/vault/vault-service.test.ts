// The CA's use-cases on in-memory ports with a moving clock: the CA is made once and reloaded, the
// server certificate is cached and renewed, revokes re-sign a numbered CRL, a damaged CA file is never
// silently replaced; the CA's name constraints and the refusal of names outside them; the
// self-signed fallback certificate of the public modes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AsnConvert } from '@peculiar/asn1-schema';
import { NameConstraints } from '@peculiar/asn1-x509';
import type { CertificateRecord } from '../../schema/vault.ts';
import type { CertificatesRepository, StoredCrl, VaultFileName, VaultFiles } from '../ports/vault.ts';
import { CA_SCOPE_MESSAGE } from './ca-scope.ts';
import { VaultService } from './vault-service.ts';
import { NAME_CONSTRAINTS_OID, parseCert, pemBlocks, sansOf } from './x509.ts';

const DAY = 86_400_000;

function memory() {
  const files = new Map<VaultFileName, string>();
  const rows: CertificateRecord[] = [];
  let crl: StoredCrl | undefined;
  const vaultFiles: VaultFiles = {
    read: (n) => files.get(n),
    write: (n, t) => void files.set(n, t),
    create: (n, t) => !files.has(n) && files.set(n, t) !== undefined,
  };
  const certs: CertificatesRepository = {
    insert: (c) => {
      const r = { ...c, id: rows.length + 1, revokedAt: null, reason: null };
      rows.push(r);
      return r;
    },
    list: () => [...rows].reverse(),
    get: (id) => rows.find((r) => r.id === id),
    bySerial: (s) => rows.find((r) => r.serial === s),
    revoke: (id, at, reason) => {
      const r = rows.find((x) => x.id === id);
      if (!r || r.revokedAt) return false;
      r.revokedAt = at;
      r.reason = reason;
      return true;
    },
    revokedUnexpired: (now) => rows.filter((r) => r.revokedAt && r.notAfter > now),
    crl: () => crl,
    saveCrl: (c) => {
      crl = c;
    },
  };
  return { files, rows, vaultFiles, certs };
}

function service(m: ReturnType<typeof memory>, clock: { t: number }) {
  return new VaultService({
    files: m.vaultFiles,
    certs: m.certs,
    unitOfWork: { run: (fn) => fn() },
    cellName: () => 'home',
    now: () => new Date(clock.t),
  });
}

const crlNumber = (der: Uint8Array) => {
  // 06 03 55 1d 14 (the CRL number OID) ... 04 len 02 len value
  const hex = Buffer.from(der).toString('hex');
  const at = hex.indexOf('0603551d14');
  const m = /^0603551d14(?:0101ff)?04..02(..)(.*)$/.exec(hex.slice(at));
  return m ? Number.parseInt(m[2]!.slice(0, Number.parseInt(m[1]!, 16) * 2), 16) : Number.NaN;
};

describe('VaultService', () => {
  test('the CA is made once, kept in one file and read back by the next process', async () => {
    const m = memory();
    const clock = { t: Date.parse('2030-01-01T00:00:00Z') };
    const a = await service(m, clock).rootPem();
    assert.equal(m.files.size, 1);
    const text = m.files.get('ca.pem')!;
    assert.equal(pemBlocks(text, 'CERTIFICATE').length, 2);
    assert.equal(pemBlocks(text, 'PRIVATE KEY').length, 2);
    const again = await service(m, clock).rootPem();
    assert.equal(again, a);
    const root = parseCert(pemBlocks(a, 'CERTIFICATE')[0]!);
    assert.match(root.subject, /CN=PIC home Root CA [0-9a-f]{6}/);
    assert.ok(!a.includes('PRIVATE KEY'));
  });

  test('a damaged CA file is an error, never a new CA', async () => {
    const m = memory();
    m.files.set('ca.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    await assert.rejects(service(m, { t: Date.now() }).rootPem(), /damaged/);
    assert.equal(m.files.get('ca.pem')!.length < 100, true);
  });

  test('concurrent first uses make one CA', async () => {
    const m = memory();
    const v = service(m, { t: Date.now() });
    const [a, b] = await Promise.all([v.rootPem(), v.rootPem()]);
    assert.equal(a, b);
  });

  test('two processes that both find no CA (pic up beside cell-api) end up with one CA', async () => {
    const m = memory();
    const clock = { t: Date.parse('2030-01-01T00:00:00Z') };
    const [a, b] = await Promise.all([service(m, clock).rootPem(), service(m, clock).rootPem()]);
    assert.equal(a, b, 'both use the CA made first');
    assert.ok(m.files.get('ca.pem')!.startsWith(a), 'and it is the one on disk');
  });

  test('server certificate: cached while the names match and 30 days remain, renewed after', async () => {
    const m = memory();
    const clock = { t: Date.parse('2030-01-01T00:00:00Z') };
    const v = service(m, clock);
    const names = ['home.cell', '*.home.cell', '10.0.0.1'];
    const first = await v.serverCertificate(names);
    assert.match(first.keyPem, /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(pemBlocks(first.chainPem, 'CERTIFICATE').length, 2);
    assert.match(m.files.get('server.pem')!, /PRIVATE KEY/);
    // Same names in another order after the first (the subject's CN), and a repeat: the same one.
    const shuffled = ['home.cell', '10.0.0.1', '*.home.cell', '10.0.0.1'];
    assert.equal((await v.serverCertificate(shuffled)).serial, first.serial);
    // A new process reads the kept file.
    assert.equal((await service(m, clock).serverCertificate(names)).serial, first.serial);
    clock.t += 366 * DAY;
    assert.equal((await v.serverCertificate(names)).serial, first.serial, '31 days left: kept');
    clock.t += 2 * DAY;
    const renewed = await v.serverCertificate(names);
    assert.notEqual(renewed.serial, first.serial, '29 days left: renewed');
    const other = await v.serverCertificate(['home.cell']);
    assert.notEqual(other.serial, renewed.serial, 'other names: a new certificate');
    assert.deepEqual(
      m.rows.map((r) => r.purpose),
      ['server', 'server', 'server'],
    );
    await v.revoke(String(m.rows[2]!.id), 'superseded');
    assert.notEqual((await v.serverCertificate(['home.cell'])).serial, other.serial, 'revoked: a new one');
  });

  test('server certificate names are checked', async () => {
    const v = service(memory(), { t: Date.now() });
    await assert.rejects(v.serverCertificate([]), /names/);
    await assert.rejects(v.serverCertificate(['ok.cell', 'a\nb']), (e: Error & { fields?: unknown }) => {
      assert.deepEqual(e.fields, [{ field: 'names.1', message: 'must be a DNS name or an IP' }]);
      return true;
    });
  });

  test('each revoke signs a CRL with the next number; a CRL near its next update is signed again', async () => {
    const m = memory();
    const clock = { t: Date.parse('2030-01-01T00:00:00Z') };
    const v = service(m, clock);
    const a = await v.issue({ common_name: 'a.cell', sans: [], days: 30, client_auth: false });
    const b = await v.issue({ common_name: 'b.cell', sans: [], days: 30, client_auth: true });
    assert.equal(crlNumber(await v.crlDer()), 1);
    assert.equal(crlNumber(await v.crlDer()), 1, 'fresh: the stored one');
    await Promise.all([v.revoke(String(a.id), 'keyCompromise'), v.revoke(b.serial, 'unspecified')]);
    assert.equal(crlNumber(await v.crlDer()), 3);
    await assert.rejects(v.revoke(String(a.id), 'unspecified'), /already revoked/);
    await assert.rejects(v.revoke('999', 'unspecified'), /not found/);
    clock.t += 5 * DAY;
    assert.equal(crlNumber(await v.crlDer()), 4, 'two days before its next update: signed again');
    assert.deepEqual(
      v.list().map((c) => c.status),
      ['revoked', 'revoked'],
    );
  });

  test('the root and the intermediate carry critical name constraints: .cell and private ranges only', async () => {
    const m = memory();
    await service(m, { t: Date.now() }).rootPem();
    const [root, intermediate] = pemBlocks(m.files.get('ca.pem')!, 'CERTIFICATE').map(parseCert);
    for (const cert of [root!, intermediate!]) {
      const ext = cert.getExtension(NAME_CONSTRAINTS_OID);
      assert.ok(ext, `${cert.subject}: NameConstraints`);
      assert.equal(ext.critical, true);
      const nc = AsnConvert.parse(ext.value, NameConstraints);
      assert.equal(nc.excludedSubtrees, undefined);
      const permitted = [...(nc.permittedSubtrees ?? [])].map((t) => {
        assert.equal(t.minimum, 0);
        assert.equal(t.maximum, undefined);
        const set = Object.entries(t.base).filter(([, v]) => v !== undefined);
        assert.equal(set.length, 1, 'one name form per subtree');
        return `${set[0]![0]}:${set[0]![1]}`;
      });
      assert.deepEqual(permitted, [
        'dNSName:cell',
        'iPAddress:10.0.0.0/8',
        'iPAddress:172.16.0.0/12',
        'iPAddress:192.168.0.0/16',
        'iPAddress:100.64.0.0/10',
        'iPAddress:127.0.0.0/8',
        'iPAddress:fc00::/7',
        'iPAddress:::1/128',
      ]);
    }
  });

  test('issuing outside .cell and private addresses is refused, naming the field, before signing', async () => {
    const m = memory();
    const v = service(m, { t: Date.now() });
    const refused = async (input: { common_name: string; sans: string[] }, fields: string[]) => {
      await assert.rejects(
        v.issue({ ...input, days: 30, client_auth: false }),
        (e: Error & { code?: string; fields?: Array<{ field: string; message: string }> }) => {
          assert.equal(e.code, 'validation_failed');
          assert.deepEqual(
            e.fields,
            fields.map((field) => ({ field, message: CA_SCOPE_MESSAGE })),
          );
          assert.match(e.message, /only issues for names under \.cell and private addresses/);
          return true;
        },
      );
    };
    await refused({ common_name: 'bank.example.com', sans: [] }, ['common_name']);
    await refused({ common_name: 'nas.home.cell', sans: ['10.0.0.5', '203.0.113.8'] }, ['sans.1']);
    await refused({ common_name: '198.51.100.1', sans: ['2001:db8::1', 'ok.cell'] }, [
      'common_name',
      'sans.0',
    ]);
    assert.equal(m.rows.length, 0, 'nothing signed');
    assert.equal(m.files.size, 0, 'not even the CA made');
    await assert.rejects(
      v.serverCertificate(['home.example.org', '*.home.example.org']),
      (e: Error & { fields?: unknown }) => {
        assert.deepEqual(e.fields, [
          { field: 'names.0', message: CA_SCOPE_MESSAGE },
          { field: 'names.1', message: CA_SCOPE_MESSAGE },
        ]);
        return true;
      },
    );
    const ok = await v.issue({
      common_name: 'printer.home.cell',
      sans: ['192.168.1.20', 'fd00::7'],
      days: 30,
      client_auth: false,
    });
    assert.equal(m.rows.length, 1);
    assert.deepEqual(sansOf(parseCert(pemBlocks(ok.certificate, 'CERTIFICATE')[0]!)), [
      'printer.home.cell',
      '192.168.1.20',
      'fd00::7',
    ]);
  });

  test('an IPv6 SAN written with a dotted quad is encoded as its own 16 bytes', async () => {
    const v = service(memory(), { t: Date.parse('2030-01-01T00:00:00Z') });
    const cert = await v.issue({
      common_name: 'nas.home.cell',
      sans: ['fd00::10.0.0.1'],
      days: 30,
      client_auth: false,
    });
    // fd00::10.0.0.1 is fd00::a00:1 (the library alone read "10.0.0.1" as the hex group 0x10).
    assert.deepEqual(sansOf(parseCert(pemBlocks(cert.certificate, 'CERTIFICATE')[0]!)), [
      'nas.home.cell',
      'fd00::a00:1',
    ]);
  });

  test('the fallback of a public mode: self-signed for its names, kept, made again when due or renamed', async () => {
    const m = memory();
    const clock = { t: Date.parse('2030-01-01T00:00:00Z') };
    const v = service(m, clock);
    const names = ['home.example.org', '*.home.example.org'];
    const first = await v.fallbackCertificate(names);
    assert.equal(first.chainPem, '');
    const cert = parseCert(pemBlocks(first.certPem, 'CERTIFICATE')[0]!);
    assert.equal(cert.issuer, cert.subject, 'self-signed');
    assert.match(cert.subject, /CN=home\.example\.org/);
    assert.deepEqual(sansOf(cert), names);
    assert.ok(await cert.verify({ signatureOnly: true }), 'signed by its own key');
    assert.match(m.files.get('fallback.pem')!, /PRIVATE KEY/);
    assert.equal(m.files.has('ca.pem'), false, 'the CA is not involved');
    assert.equal(m.rows.length, 0, 'not listed among the CA’s certificates');
    assert.equal(
      (await v.fallbackCertificate([...names, names[0]!])).serial,
      first.serial,
      'a repeat: the same',
    );
    assert.equal((await service(m, clock).fallbackCertificate(names)).serial, first.serial, 'read back');
    clock.t += 366 * DAY;
    assert.equal((await v.fallbackCertificate(names)).serial, first.serial, '31 days left: kept');
    clock.t += 2 * DAY;
    const renewed = await v.fallbackCertificate(names);
    assert.notEqual(renewed.serial, first.serial, '29 days left: made again');
    const other = await v.fallbackCertificate(['other.example.org', '*.other.example.org']);
    assert.notEqual(other.serial, renewed.serial, 'other names: a new one');
    await assert.rejects(v.fallbackCertificate(['a\nb']), /names\.0/);
  });
});
