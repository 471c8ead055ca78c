// The DDNS settings body: URLs http(s) only without credentials, one-line values, provider rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ddnsSettingsBody, httpUrl } from './ddns.ts';
import { HOSTILE_STRINGS } from './hostile.ts';

test('httpUrl accepts http(s) and refuses other schemes, credentials, fragments and whitespace', () => {
  for (const ok of ['https://api.example.net/v4', 'http://127.0.0.1:8080/ip', 'https://[2001:db8::1]/'])
    assert.ok(httpUrl.safeParse(ok).success, ok);
  for (const bad of [
    'ftp://x.example/',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'https://u:p@x.example/',
    'https://u@x.example/',
    'https://x.example/#frag',
    'https://x.example/a b',
    'https://x.example/\nHost: y',
    '/relative',
    ...HOSTILE_STRINGS,
  ])
    assert.equal(httpUrl.safeParse(bad).success, false, JSON.stringify(bad));
});

test('hostile strings are refused as host name and token', () => {
  const base = { provider: 'pic_ngo', hostname: 'home.pic.ngo', token: 't' };
  for (const bad of HOSTILE_STRINGS) {
    assert.equal(ddnsSettingsBody.safeParse({ ...base, hostname: bad }).success, false, bad);
    if (/[\s\0]/.test(bad) || bad === '')
      assert.equal(ddnsSettingsBody.safeParse({ ...base, token: bad }).success, false, bad);
  }
});

test('provider rules: cloudflare needs a zone id, duckdns a .duckdns.org name, noip user:password', () => {
  const p = (b: Record<string, unknown>) => ddnsSettingsBody.safeParse(b).success;
  assert.equal(p({ provider: 'cloudflare', hostname: 'a.example.org', token: 't' }), false);
  assert.equal(
    p({ provider: 'cloudflare', hostname: 'a.example.org', token: 't', zone_id: 'a'.repeat(32) }),
    true,
  );
  assert.equal(
    p({ provider: 'noip', hostname: 'a.example.org', token: 't', zone_id: 'a'.repeat(32) }),
    false,
  );
  assert.equal(p({ provider: 'duckdns', hostname: 'a.example.org', token: 't' }), false);
  assert.equal(p({ provider: 'duckdns', hostname: 'mine.duckdns.org', token: 't' }), true);
  assert.equal(p({ provider: 'noip', hostname: 'a.example.org', token: 'nocolon' }), false);
  assert.equal(p({ provider: 'noip', hostname: 'a.example.org', token: 'u:p' }), true);
});
