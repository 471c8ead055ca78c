// The pure checks of a store service's hooks: the records its dns_records hook prints, and each
// settings value by its field's type.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkServiceRecords, checkSettings } from './service-hooks.ts';
import type { ServiceSettingField } from './service-manifest.ts';

const OWN = ['mail'];
const rec = (r: object[]) => checkServiceRecords(JSON.stringify(r), OWN);

describe('checkServiceRecords', () => {
  test('the mail records pass, normalized', () => {
    const r = rec([
      { name: '@', type: 'MX', value: '10 mail.home.cell.' },
      { name: '@', type: 'TXT', value: 'v=spf1 mx -all' },
      { name: 'pic._domainkey', type: 'TXT', value: 'v=DKIM1; k=rsa; p=MIIBIjANBg' },
      { name: '_dmarc', type: 'TXT', value: 'v=DMARC1; p=quarantine; adkim=s; aspf=s' },
      { name: '_submission._tcp', type: 'SRV', value: '0 1 587 mail.home.cell.' },
      { name: 'mail', type: 'TXT', value: 'v=spf1 a -all' },
    ]);
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.records[0]!.value, '10 mail.home.cell');
    assert.equal(r.records[4]!.value, '0 1 587 mail.home.cell');
    assert.equal(r.records.length, 6);
    assert.equal(r.records[0]!.ttl, 3600);
  });

  const refused: Array<[string, string, RegExp]> = [
    ['not json', '{', /not JSON/],
    ['not an array', '{"name":"@"}', /not a JSON array/],
    ['an A record', JSON.stringify([{ name: '@', type: 'A', value: '10.0.0.1' }]), /record 0\.type/],
    ['a CNAME', JSON.stringify([{ name: '_x', type: 'CNAME', value: 'a.b' }]), /record 0\.type/],
    ['another name', JSON.stringify([{ name: 'www', type: 'TXT', value: 'x' }]), /record 0\.name: www/],
    [
      'an absolute name',
      JSON.stringify([{ name: '_dmarc.evil.org.', type: 'TXT', value: 'x' }]),
      /record 0\.name/,
    ],
    ['a quote in TXT', JSON.stringify([{ name: '_dmarc', type: 'TXT', value: 'a"b' }]), /record 0\.value/],
    [
      'a newline in TXT',
      JSON.stringify([{ name: '_dmarc', type: 'TXT', value: 'a\nlocal-data: x' }]),
      /record 0\.value/,
    ],
    ['a newline in the name', JSON.stringify([{ name: '_a\nb', type: 'TXT', value: 'x' }]), /record 0\.name/],
    ['a bad MX', JSON.stringify([{ name: '@', type: 'MX', value: 'mail' }]), /record 0\.value/],
    ['an extra key', JSON.stringify([{ name: '@', type: 'TXT', value: 'x', class: 'IN' }]), /record 0/],
    [
      'too many',
      JSON.stringify(Array.from({ length: 33 }, (_, i) => ({ name: `_r${i}`, type: 'TXT', value: 'x' }))),
      /at most 32/,
    ],
  ];
  for (const [what, out, why] of refused)
    test(`refused whole: ${what}`, () => {
      const good = { name: '@', type: 'TXT', value: 'ok' };
      const r = checkServiceRecords(
        out.startsWith('[') ? `[${JSON.stringify(good)},${out.slice(1)}` : out,
        OWN,
      );
      assert.equal(r.ok, false);
      if (!r.ok)
        assert.match(
          r.problem,
          out.startsWith('[') ? new RegExp(why.source.replace('record 0', 'record 1')) : why,
        );
    });
});

const FIELDS: ServiceSettingField[] = [
  { key: 'smarthost_host', type: 'host', label: 'Smarthost' },
  { key: 'smarthost_port', type: 'port', label: 'Port', default: 587 },
  { key: 'smarthost_username', type: 'text', label: 'User' },
  { key: 'smarthost_password', type: 'secret', label: 'Password' },
  { key: 'quota_mb', type: 'integer', label: 'Quota', min: 10, max: 1048576, default: 1024 },
  { key: 'tls_only', type: 'boolean', label: 'TLS only' },
  { key: 'aliases', type: 'aliases', label: 'Aliases' },
];
const ACCOUNTS = ['alice', 'bob'];

describe('checkSettings', () => {
  test('good values, unset and cleared', () => {
    const r = checkSettings(
      FIELDS,
      {
        smarthost_host: 'SMTP.Example.org.',
        smarthost_port: 2525,
        smarthost_username: 'me@example.org',
        smarthost_password: 'pa ss"\'$(x)',
        quota_mb: 10,
        tls_only: false,
        aliases: [
          { alias: 'info', to: 'alice' },
          { alias: 'post.master', to: 'bob' },
        ],
      },
      ACCOUNTS,
    );
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.change.values.smarthost_host, 'smtp.example.org');
    assert.equal(r.change.secrets.smarthost_password, 'pa ss"\'$(x)');
    const ip = checkSettings(
      FIELDS,
      { smarthost_host: '192.0.2.1', smarthost_password: null, quota_mb: null },
      ACCOUNTS,
    );
    assert.ok(ip.ok);
    assert.deepEqual(ip.change, {
      values: { smarthost_host: '192.0.2.1', quota_mb: null },
      secrets: { smarthost_password: null },
    });
  });

  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['unknown key', { relay: 'x' }, 'values.relay'],
    ['newline in text', { smarthost_username: 'a\nb' }, 'values.smarthost_username'],
    ['NUL in text', { smarthost_username: 'a\u0000b' }, 'values.smarthost_username'],
    ['newline in secret', { smarthost_password: 'a\r\nMAIL FROM' }, 'values.smarthost_password'],
    ['empty secret', { smarthost_password: '' }, 'values.smarthost_password'],
    ['host that is neither', { smarthost_host: 'smtp example' }, 'values.smarthost_host'],
    ['host with a newline', { smarthost_host: 'smtp.example.org\nrelay' }, 'values.smarthost_host'],
    ['port out of range', { smarthost_port: 70000 }, 'values.smarthost_port'],
    ['port as a string', { smarthost_port: '587' }, 'values.smarthost_port'],
    ['integer out of range', { quota_mb: 5 }, 'values.quota_mb'],
    ['integer fraction', { quota_mb: 10.5 }, 'values.quota_mb'],
    ['boolean as a string', { tls_only: 'true' }, 'values.tls_only'],
    ['text too long', { smarthost_username: 'a'.repeat(513) }, 'values.smarthost_username'],
    ['aliases not a list', { aliases: 'info' }, 'values.aliases'],
    ['alias local part', { aliases: [{ alias: 'In fo', to: 'alice' }] }, 'values.aliases'],
    ['alias ending in a dot', { aliases: [{ alias: 'info.', to: 'alice' }] }, 'values.aliases'],
    ['alias with a newline', { aliases: [{ alias: 'info\n', to: 'alice' }] }, 'values.aliases'],
    ['alias target not an account', { aliases: [{ alias: 'info', to: 'carol' }] }, 'values.aliases'],
    [
      'duplicate alias',
      {
        aliases: [
          { alias: 'info', to: 'alice' },
          { alias: 'info', to: 'bob' },
        ],
      },
      'values.aliases',
    ],
    ['alias with an extra key', { aliases: [{ alias: 'info', to: 'alice', x: 1 }] }, 'values.aliases'],
  ];
  for (const [what, values, field] of bad)
    test(`400 on ${what}: ${field}`, () => {
      const r = checkSettings(FIELDS, values, ACCOUNTS);
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.deepEqual(
          r.errors.map((e) => e.field),
          [field],
        );
        // A secret's value is never in a message.
        assert.ok(!JSON.stringify(r.errors).includes('MAIL FROM'));
      }
    });
});
