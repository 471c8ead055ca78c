// Each provider's request builders (method, URL, query, headers, body) and reply parsers, with every
// documented reply, errors included.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DDNS_PROVIDERS, DDNS_TXT_PROVIDERS } from '../../../schema/ddns.ts';
import type { HttpReply } from '../../ports/http-client.ts';
import type { ProviderContext } from '../provider.ts';
import {
  cloudflare,
  cloudflareCreateRequest,
  cloudflareDeleteRequest,
  cloudflareFindRequest,
  cloudflarePatchRequest,
  parseCloudflareFind,
  parseCloudflareWrite,
} from './cloudflare.ts';
import {
  duckdnsClearTxtRequest,
  duckdnsTxtRequest,
  duckdnsUpdateRequest,
  parseDuckdnsReply,
} from './duckdns.ts';
import { freednsUpdateRequest, parseFreednsReply } from './freedns.ts';
import { PROVIDERS } from './index.ts';
import { NOIP_911_DELAY_MS, noipUpdateRequest, parseDyndns2Reply } from './noip.ts';
import {
  parsePicNgoReply,
  picNgoAddressRequest,
  picNgoTxtDeleteRequest,
  picNgoTxtRequest,
} from './pic-ngo.ts';

const ctx = (over: Partial<ProviderContext> = {}): ProviderContext => ({
  hostname: 'home.example.org',
  token: 'tok3n-value',
  baseUrl: 'https://api.example.net/base/',
  zoneId: '0123456789abcdef0123456789abcdef',
  recordId: null,
  userAgent: 'PIC pic-cell/0.1.0',
  ...over,
});
const reply = (status: number, body: string, retryAfter?: string): HttpReply => ({
  status,
  body,
  ...(retryAfter ? { retryAfter } : {}),
});

test('the TXT-capable providers in the schema are exactly those with setTxt', () => {
  assert.deepEqual(
    DDNS_PROVIDERS.filter((p) => PROVIDERS[p].setTxt !== undefined),
    [...DDNS_TXT_PROVIDERS],
  );
});

test('noip: GET /nic/update with Basic auth and a User-Agent; myipv6 for IPv6', () => {
  const r = noipUpdateRequest(ctx({ token: 'user@example.org:pa ss' }), '203.0.113.5');
  assert.equal(r.method, 'GET');
  assert.equal(r.url, 'https://api.example.net/base/nic/update?hostname=home.example.org&myip=203.0.113.5');
  assert.equal(r.headers?.authorization, `Basic ${Buffer.from('user@example.org:pa ss').toString('base64')}`);
  assert.equal(r.headers?.['user-agent'], 'PIC pic-cell/0.1.0');
  assert.match(noipUpdateRequest(ctx(), '2001:db8::1').url, /&myipv6=2001%3Adb8%3A%3A1$/);
});

test('noip: every dyndns2 reply', () => {
  const cases: Array<[string, string, string?]> = [
    ['good 203.0.113.5', 'updated'],
    ['nochg 203.0.113.5', 'unchanged'],
    ['nohost', 'fatal', 'nohost'],
    ['badauth', 'fatal', 'badauth'],
    ['badagent', 'fatal', 'badagent'],
    ['!donator', 'fatal', 'donator'],
    ['abuse', 'fatal', 'abuse'],
    ['911', 'retry'],
    ['something else', 'retry'],
  ];
  for (const [body, kind, reason] of cases) {
    const r = parseDyndns2Reply(reply(200, `${body}\r\n`));
    assert.equal(r.kind, kind, body);
    if (reason) assert.equal(r.kind === 'fatal' && r.reason, reason, body);
  }
  const r911 = parseDyndns2Reply(reply(200, '911'));
  assert.equal(r911.kind === 'retry' && r911.minDelayMs, NOIP_911_DELAY_MS);
  assert.equal(parseDyndns2Reply(reply(401, '')).kind, 'fatal');
  assert.equal(parseDyndns2Reply(reply(503, '')).kind, 'retry');
});

test('duckdns: GET /update with domains (the label), token, ip or ipv6, verbose; txt', () => {
  const c = ctx({ hostname: 'mycell.duckdns.org' });
  const u = new URL(duckdnsUpdateRequest(c, '203.0.113.5').url);
  assert.equal(u.pathname, '/base/update');
  assert.deepEqual(Object.fromEntries(u.searchParams), {
    domains: 'mycell',
    token: 'tok3n-value',
    ip: '203.0.113.5',
    verbose: 'true',
  });
  assert.equal(new URL(duckdnsUpdateRequest(c, '2001:db8::1').url).searchParams.get('ipv6'), '2001:db8::1');
  const t = new URL(duckdnsTxtRequest(c, 'acme-value_1').url);
  assert.equal(t.searchParams.get('txt'), 'acme-value_1');
  assert.equal(t.searchParams.get('verbose'), 'true');
});

test('duckdns: OK/UPDATED, OK/NOCHANGE, KO, HTTP errors', () => {
  assert.equal(parseDuckdnsReply(reply(200, 'OK\n203.0.113.5\n\nUPDATED')).kind, 'updated');
  assert.equal(parseDuckdnsReply(reply(200, 'OK\n203.0.113.5\n\nNOCHANGE')).kind, 'unchanged');
  const ko = parseDuckdnsReply(reply(200, 'KO'));
  assert.equal(ko.kind === 'fatal' && ko.reason, 'badauth');
  assert.equal(parseDuckdnsReply(reply(200, 'huh')).kind, 'retry');
  assert.equal(parseDuckdnsReply(reply(502, '')).kind, 'retry');
  assert.equal(parseDuckdnsReply(reply(400, '')).kind, 'fatal');
});

test('freedns: GET /dynamic/update.php?<token>&address=', () => {
  const r = freednsUpdateRequest(ctx({ token: 'AbC123xyz' }), '203.0.113.5');
  assert.equal(r.method, 'GET');
  assert.equal(r.url, 'https://api.example.net/base/dynamic/update.php?AbC123xyz&address=203.0.113.5');
  assert.equal(r.headers?.['user-agent'], 'PIC pic-cell/0.1.0');
});

test('freedns: updated, not changed, no record, invalid URL, other errors', () => {
  assert.equal(
    parseFreednsReply(reply(200, 'Updated 1 host(s) home.example.org to 203.0.113.5 in 0.2 seconds')).kind,
    'updated',
  );
  assert.equal(
    parseFreednsReply(reply(200, 'ERROR: Address 203.0.113.5 has not changed.')).kind,
    'unchanged',
  );
  const none = parseFreednsReply(
    reply(200, 'ERROR: Unable to locate this record (changed password recently? deleted record?)'),
  );
  assert.equal(none.kind === 'fatal' && none.reason, 'nohost');
  const bad = parseFreednsReply(reply(200, 'ERROR: Invalid update URL (2)'));
  assert.equal(bad.kind === 'fatal' && bad.reason, 'badauth');
  assert.equal(parseFreednsReply(reply(200, 'ERROR: something new')).kind, 'retry');
  assert.equal(parseFreednsReply(reply(500, '')).kind, 'retry');
});

test('pic_ngo: POST JSON with a Bearer token; replies by status', () => {
  const r = picNgoAddressRequest(ctx(), '203.0.113.5');
  assert.equal(r.method, 'POST');
  assert.equal(r.url, 'https://api.example.net/base/v1/ddns/address');
  assert.equal(r.headers?.authorization, 'Bearer tok3n-value');
  assert.equal(r.headers?.['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(r.body!), { hostname: 'home.example.org', ip: '203.0.113.5' });
  assert.deepEqual(JSON.parse(picNgoTxtRequest(ctx(), '_acme-challenge.home.example.org', 'v').body!), {
    hostname: 'home.example.org',
    name: '_acme-challenge.home.example.org',
    value: 'v',
  });
  assert.equal(parsePicNgoReply(reply(200, '{"status":"updated"}')).kind, 'updated');
  assert.equal(parsePicNgoReply(reply(200, '{"status":"unchanged"}')).kind, 'unchanged');
  assert.equal(parsePicNgoReply(reply(200, 'nope')).kind, 'retry');
  for (const [s, reason] of [
    [401, 'badauth'],
    [403, 'badauth'],
    [404, 'nohost'],
  ] as const) {
    const f = parsePicNgoReply(reply(s, ''));
    assert.equal(f.kind === 'fatal' && f.reason, reason);
  }
  const slow = parsePicNgoReply(reply(429, '', '120'));
  assert.equal(slow.kind === 'retry' && slow.minDelayMs, 120_000);
  assert.equal(parsePicNgoReply(reply(503, '')).kind, 'retry');
});

test('cloudflare: find, patch and create requests', () => {
  const c = ctx({ baseUrl: 'https://api.example.net/client/v4' });
  const f = cloudflareFindRequest(c, 'A', 'home.example.org');
  assert.equal(f.method, 'GET');
  assert.equal(
    f.url,
    'https://api.example.net/client/v4/zones/0123456789abcdef0123456789abcdef/dns_records?type=A&name=home.example.org',
  );
  assert.equal(f.headers?.authorization, 'Bearer tok3n-value');
  const p = cloudflarePatchRequest(c, 'rec1', '203.0.113.5');
  assert.equal(p.method, 'PATCH');
  assert.match(p.url, /\/zones\/0123456789abcdef0123456789abcdef\/dns_records\/rec1$/);
  assert.deepEqual(JSON.parse(p.body!), { content: '203.0.113.5' });
  const n = cloudflareCreateRequest(c, 'TXT', '_acme-challenge.home.example.org', 'v');
  assert.equal(n.method, 'POST');
  assert.deepEqual(JSON.parse(n.body!), {
    type: 'TXT',
    name: '_acme-challenge.home.example.org',
    content: 'v',
    ttl: 60,
    proxied: false,
  });
});

test('cloudflare: replies, errors included', () => {
  const ok = (result: unknown) => reply(200, JSON.stringify({ success: true, errors: [], result }));
  assert.deepEqual(parseCloudflareFind(ok([{ id: 'rec1', content: '198.51.100.1' }])), {
    id: 'rec1',
    content: '198.51.100.1',
  });
  assert.equal(parseCloudflareFind(ok([])), null);
  assert.deepEqual(parseCloudflareWrite(ok({ id: 'rec1' })), { id: 'rec1' });
  const err = (status: number, code: number) =>
    reply(status, JSON.stringify({ success: false, errors: [{ code, message: 'x' }], result: null }));
  const kinds = [
    [err(403, 9109), 'fatal', 'badauth'],
    [err(400, 10000), 'fatal', 'badauth'],
    [err(404, 7003), 'fatal', 'nohost'],
    [err(400, 9005), 'fatal', 'rejected'],
    [err(429, 971), 'retry'],
    [err(502, 0), 'retry'],
    [reply(200, 'not json'), 'retry'],
  ] as const;
  for (const [r, kind, reason] of kinds) {
    const got = parseCloudflareWrite(r) as { kind: string; reason?: string };
    assert.equal(got.kind, kind, r.body);
    if (reason) assert.equal(got.reason, reason, r.body);
  }
});

test('cloudflare: an address already in the record is not written again', async () => {
  const sent: string[] = [];
  const http = {
    send: async (r: { method: string; url: string }) => {
      sent.push(r.method);
      return reply(200, JSON.stringify({ success: true, result: [{ id: 'rec1', content: '203.0.113.5' }] }));
    },
  };
  const r = await cloudflare.setAddress(http, ctx(), '203.0.113.5');
  assert.equal(r.kind, 'unchanged');
  assert.deepEqual(sent, ['GET']);
});

test('ACME DNS-01 cleanup: every TXT provider can remove what it published', async () => {
  assert.deepEqual(
    DDNS_PROVIDERS.filter((p) => PROVIDERS[p].removeTxt !== undefined),
    [...DDNS_TXT_PROVIDERS],
  );
  const d = duckdnsClearTxtRequest(ctx({ hostname: 'home.duckdns.org' }));
  assert.equal(
    d.url,
    'https://api.example.net/base/update?domains=home&token=tok3n-value&txt=&clear=true&verbose=true',
  );
  const p = picNgoTxtDeleteRequest(ctx(), '_acme-challenge.home.example.org', 'v4lue');
  assert.equal(p.method, 'POST');
  assert.equal(p.url, 'https://api.example.net/base/v1/ddns/txt/delete');
  assert.deepEqual(JSON.parse(p.body!), {
    hostname: 'home.example.org',
    name: '_acme-challenge.home.example.org',
    value: 'v4lue',
  });
  const del = cloudflareDeleteRequest(ctx(), 'rec/1');
  assert.equal(del.method, 'DELETE');
  assert.match(del.url, /\/zones\/0123456789abcdef0123456789abcdef\/dns_records\/rec%2F1$/);
  // Cloudflare deletes only a record still holding this order's value.
  const sent: string[] = [];
  const http = (found: string) => ({
    async send(r: { method: string; url: string }) {
      sent.push(r.method);
      return r.method === 'GET'
        ? reply(200, JSON.stringify({ success: true, result: [{ id: 'r1', content: found }] }))
        : reply(200, JSON.stringify({ success: true, result: { id: 'r1' } }));
    },
  });
  assert.equal((await cloudflare.removeTxt!(http('other'), ctx(), 'n', 'v')).kind, 'unchanged');
  assert.equal((await cloudflare.removeTxt!(http('v'), ctx(), 'n', 'v')).kind, 'updated');
  assert.deepEqual(sent, ['GET', 'GET', 'DELETE']);
});
