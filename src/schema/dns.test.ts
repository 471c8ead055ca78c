// DNS record bodies: each type's value is checked and normalized, names are relative or absolute,
// and nothing that could quote, escape or break a line reaches the zone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cellConfigSchema, defaultConfig } from './config.ts';
import { createDnsRecordSchema } from './dns.ts';
import { HOSTILE_STRINGS } from './hostile.ts';

const parse = (b: unknown) => createDnsRecordSchema.safeParse(b);
const ok = (b: object) => {
  const r = parse(b);
  assert.ok(r.success, JSON.stringify(b) + (r.success ? '' : JSON.stringify(r.error.issues)));
  return r.data;
};
const bad = (b: object, field: string) => {
  const r = parse(b);
  assert.ok(!r.success, `accepted ${JSON.stringify(b)}`);
  assert.ok(
    r.error.issues.some((i) => i.path.join('.') === field),
    `${JSON.stringify(b)}: ${JSON.stringify(r.error.issues)}`,
  );
};

test('each type takes its own value and normalizes it', () => {
  assert.deepEqual(ok({ name: 'WWW', type: 'A', value: '192.0.2.1' }), {
    name: 'www',
    type: 'A',
    value: '192.0.2.1',
    ttl: 3600,
  });
  assert.equal(ok({ name: 'v6', type: 'AAAA', value: '2001:DB8::1', ttl: 60 }).value, '2001:db8::1');
  assert.equal(ok({ name: 'www', type: 'CNAME', value: 'Web.Example.org.' }).value, 'web.example.org');
  assert.equal(ok({ name: '@', type: 'MX', value: '010 Mail.example.org.' }).value, '10 mail.example.org');
  assert.equal(
    ok({ name: '_sip._tcp', type: 'SRV', value: '10 5 5060 sip.example.org' }).value,
    '10 5 5060 sip.example.org',
  );
  assert.equal(ok({ name: '_x._tcp', type: 'SRV', value: '0 0 0 .' }).value, '0 0 0 .');
  assert.equal(ok({ name: '_dmarc', type: 'TXT', value: 'v=DMARC1; p=none' }).value, 'v=DMARC1; p=none');
  assert.equal(ok({ name: 'www.mycell.cell.', type: 'A', value: '192.0.2.1' }).name, 'www.mycell.cell.');
});

test('values that do not fit their type are refused on the value field', () => {
  bad({ name: 'a', type: 'A', value: '2001:db8::1' }, 'value');
  bad({ name: 'a', type: 'A', value: '192.0.2.300' }, 'value');
  bad({ name: 'a', type: 'AAAA', value: '192.0.2.1' }, 'value');
  bad({ name: 'a', type: 'AAAA', value: 'fe80::1%eth0' }, 'value');
  bad({ name: 'a', type: 'CNAME', value: 'single' }, 'value');
  bad({ name: 'a', type: 'CNAME', value: 'a..b' }, 'value');
  bad({ name: 'a', type: 'MX', value: 'mail.example.org' }, 'value');
  bad({ name: 'a', type: 'MX', value: '70000 mail.example.org' }, 'value');
  bad({ name: 'a', type: 'MX', value: '10 mail.example.org extra' }, 'value');
  bad({ name: 'a', type: 'SRV', value: '10 5 sip.example.org' }, 'value');
  bad({ name: 'a', type: 'SRV', value: '10 5 99999 sip.example.org' }, 'value');
  bad({ name: 'a', type: 'TXT', value: '' }, 'value');
  bad({ name: 'a', type: 'TXT', value: 'x'.repeat(2049) }, 'value');
  for (const q of ['say "hi"', "it's", 'back\\slash', 'line\nbreak', 'tab\there', 'é'])
    bad({ name: 'a', type: 'TXT', value: q }, 'value');
  bad({ name: 'a', type: 'PTR', value: 'x' }, 'type');
  bad({ name: 'a', type: 'A', value: '192.0.2.1', ttl: -1 }, 'ttl');
  bad({ name: 'a', type: 'A', value: '192.0.2.1', extra: 1 }, '');
});

test('names: relative labels, @, or absolute with a trailing dot; nothing else', () => {
  for (const n of [
    '..',
    'a..b',
    '.a',
    '*',
    '*.a',
    'a b',
    'a_b',
    '-a',
    'a-',
    'a/b',
    '@@',
    `${'a'.repeat(64)}`,
  ])
    bad({ name: n, type: 'A', value: '192.0.2.1' }, 'name');
  for (const h of HOSTILE_STRINGS) {
    bad({ name: h, type: 'A', value: '192.0.2.1' }, 'name');
    for (const type of ['A', 'AAAA', 'CNAME', 'MX', 'SRV'])
      assert.equal(parse({ name: 'a', type, value: h }).success, false, `${type} ${JSON.stringify(h)}`);
  }
});

test('upstreams: DNS-over-TLS forwarders are validated, and not mixed with plain ones', () => {
  const cfg = defaultConfig();
  const withTls = (tls: unknown, plain: string[] = []) =>
    cellConfigSchema.safeParse({
      ...cfg,
      network: { ...cfg.network, dns_forwarders: plain, dns_tls_forwarders: tls, dnssec: true },
    });
  assert.ok(withTls([{ address: '192.0.2.53', tls_name: 'dns.example.net' }]).success);
  assert.ok(withTls([{ address: '192.0.2.53', port: 8853, tls_name: 'dns.example.net' }]).success);
  for (const bad of [
    [{ address: '192.0.2.53' }],
    [{ address: 'dns.example.net', tls_name: 'dns.example.net' }],
    [{ address: '192.0.2.53', tls_name: 'dns.example.net#x' }],
    [{ address: '192.0.2.53', tls_name: 'a\nforward-zone:' }],
    [{ address: '192.0.2.53', port: 0, tls_name: 'dns.example.net' }],
  ])
    assert.equal(withTls(bad).success, false, JSON.stringify(bad));
  const mixed = withTls([{ address: '192.0.2.53', tls_name: 'dns.example.net' }], ['192.0.2.1']);
  assert.ok(!mixed.success && mixed.error.issues[0]!.path.join('.') === 'network.dns_tls_forwarders');
});
