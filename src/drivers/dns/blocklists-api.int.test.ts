// The blocklists API through inject() on a real temp cell whose resolver is a real Unbound on
// loopback: a list fetched from a local fake HTTP server (127.0.0.1, nothing leaves the machine)
// blocks its names for a peer with blocking on and not for a peer with it off; uploads, toggles,
// deletes and the daily refresh (a fake clock, no timer) apply live; refusals name their field.
// Unbound's log goes through the image's pic-dns-blocked as in cell-dns: the stats count each peer's
// blocked queries (and only those), and the counts survive a restart of cell-api (SQLite).
//
// Peers' queries reach cell-dns from their VPN address mapped onto the cell network (ADR 0015:
// 10.0.0.x → 172.20.255.x). Here the resolver sits on loopback, so the port below moves the views'
// addresses from 172.20/16 to 127.20/16, the way NETMAP moves them in a cell, and the test queries
// from 127.20.255.x.
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { after, before, describe, test } from 'node:test';
import { type FakeServer, fakeHttp } from '../../api/fake-http-kit.ts';
import {
  ADMIN_PASSWORD,
  authed,
  completeSetup,
  type Kit,
  type Login,
  login,
  makeKit,
} from '../../api/test-kit.ts';
import type { Clock } from '../../core/ports/clock.ts';
import type { DnsServerPort } from '../../core/ports/dns-server.ts';
import { BLOCKLIST_MAX_BYTES, type BlocklistStatsView } from '../../schema/blocklists.ts';
import { vpnAddressOnCell } from '../../schema/vpn-sources.ts';
import { localExec, type UnboundControl } from './unbound-control.ts';
import { startControlled, type TestUnbound } from './unbound-kit.ts';

const DAY = 24 * 3600 * 1000;
const clock = { t: Date.parse('2030-01-01T00:00:00Z') };
const fakeClock: Clock = {
  now: () => clock.t,
  setTimer: () => undefined, // the DDNS scheduler's: never fired here
  clearTimer: () => undefined,
};

let kit: Kit;
let admin: Login;
let ub: TestUnbound;
let lists: FakeServer;
let dns: DnsServerPort;
const served: Record<string, string> = {
  '/hosts.txt':
    '# test list\n0.0.0.0 ads.example\n127.0.0.1 localhost\n0.0.0.0 tracker.example\nbad line here\n',
};

const onLoopback = (a: string) => a.replace(/^172\.20\./, '127.20.');

before(async () => {
  lists = await fakeHttp((req) =>
    served[req.path] !== undefined ? { body: served[req.path] } : { status: 404, body: 'no' },
  );
  let control: UnboundControl;
  ({ ub, dns: control } = await startControlled({ exec: localExec, tap: true }));
  dns = {
    running: () => control.running(),
    reset: () => control.reset(),
    blockedQueries: () => control.blockedQueries(),
    apply: (zone, blocked) =>
      control.apply(
        { ...zone, views: zone.views.map((v) => ({ ...v, address: onLoopback(v.address) })) },
        blocked,
      ),
    // The clients Unbound saw are on loopback: back to the cell network the views are named for.
    drainBlocked: async () => {
      const d = await control.drainBlocked();
      return (
        d && {
          ...d,
          counts: d.counts.map((c) => ({ ...c, client: c.client.replace(/^127\.20\./, '172.20.') })),
        }
      );
    },
  };
  kit = await makeKit({}, { dns, clock: fakeClock });
  admin = await completeSetup(kit);
});
after(async () => {
  await kit?.close();
  await ub?.stop();
  await lists?.close();
});

const req = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object, s: Login = admin) =>
  kit.app.inject({ method, url, headers: authed(s), ...(payload ? { payload } : {}) });
const upload = (name: string, body: string | Buffer, type = 'text/plain', s: Login = admin) =>
  kit.app.inject({
    method: 'POST',
    url: `/api/dns/blocklists/upload?name=${encodeURIComponent(name)}`,
    headers: authed(s, { 'content-type': type }),
    payload: body,
  });
const fieldOf = (body: string) => (JSON.parse(body).fields ?? []).map((f: { field: string }) => f.field);

const peers: Record<string, string> = {};
/** NXDOMAIN, an address, or 'not blocked' (no upstream here: an unblocked outside name fails SERVFAIL). */
const ask = async (name: string, peer: string) => {
  const r = new Resolver({ timeout: 3000, tries: 1 });
  r.setServers([`127.0.0.1:${ub.port}`]);
  r.setLocalAddress(onLoopback(vpnAddressOnCell(peers[peer]!, '172.20.0.0/16', '10.0.0.0/24')));
  try {
    return (await r.resolve4(name)).join(',');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOTFOUND' ? 'NXDOMAIN' : 'not blocked';
  }
};
const stats = async (query = ''): Promise<BlocklistStatsView> => {
  const r = await req('GET', `/api/dns/blocklists/stats${query}`);
  assert.equal(r.statusCode, 200, r.body);
  return r.json();
};
/** The stats once `done` holds: Unbound logs before it answers, the tap reads the line a moment later. */
const statsWhen = async (done: (s: BlocklistStatsView) => boolean, query = '') => {
  const deadline = Date.now() + 5000;
  for (;;) {
    const s = await stats(query);
    if (done(s) || Date.now() > deadline) return s;
    await new Promise((r) => setTimeout(r, 20)); // polling a condition (the counts arrived)
  }
};
const peerStats = (s: BlocklistStatsView, name: string) => {
  const p = s.peers.find((x) => x.peer === name);
  assert.ok(p, `no stats for ${name}`);
  return p;
};

describe('DNS blocklists API on a real Unbound', () => {
  test('peers: blocking on by default, off when asked', async () => {
    for (const [name, extra] of [
      ['phone', {}],
      ['laptop', { blocklists: false }],
    ] as const) {
      const r = await req('POST', '/api/peers?qr=false', { name, create_account: false, ...extra });
      assert.equal(r.statusCode, 201, r.body);
      peers[name] = r.json().peer.address;
      assert.equal(r.json().peer.blocklists, name === 'phone');
    }
    assert.deepEqual(await req('GET', '/api/dns/blocklists').then((r) => r.json()), []);
    assert.equal(lists.seen.length, 0, 'nothing is fetched before the owner adds a URL');
  });

  test('a URL list blocks its names for the peer with blocking on only', async () => {
    const r = await req('POST', '/api/dns/blocklists', { url: `${lists.url}/hosts.txt` });
    assert.equal(r.statusCode, 201, r.body);
    const v = r.json();
    assert.equal(v.kind, 'url');
    assert.equal(v.enabled, true);
    assert.equal(v.domains, 2);
    assert.equal(v.invalid_lines, 1);
    assert.equal(v.last_error, null);
    assert.equal(v.last_fetched, new Date(clock.t).toISOString());
    const before = (await stats()).blocked_queries;
    assert.equal(await ask('ads.example', 'phone'), 'NXDOMAIN');
    assert.equal(await ask('tracker.example', 'phone'), 'NXDOMAIN');
    assert.equal(await ask('ads.example', 'laptop'), 'not blocked');
    assert.equal(await ask('phone.home.cell', 'phone'), peers.phone, 'the cell zone still answers');
    const s = await statsWhen((x) => x.total >= 2);
    assert.equal(s.blocked_names, 2);
    assert.equal(s.blocked_queries, (before ?? 0) + 2);
    assert.equal(s.peers_blocking, 1);
    assert.equal(s.window, '24h');
    assert.equal(s.total, 2, 'the exempted peer and the allowed name do not count');
    assert.deepEqual(peerStats(s, 'phone'), {
      peer: 'phone',
      address: peers.phone,
      blocking: true,
      blocked: 2,
      top: [
        { name: 'ads.example', count: 1 },
        { name: 'tracker.example', count: 1 },
      ],
    });
    assert.deepEqual(peerStats(s, 'laptop'), {
      peer: 'laptop',
      address: peers.laptop,
      blocking: false,
      blocked: 0,
      top: [],
    });
    assert.equal(s.peers.length, 2);
  });

  test("a peer's toggle applies live", async () => {
    assert.equal((await req('PUT', '/api/peers/laptop', { blocklists: true })).statusCode, 200);
    assert.equal(await ask('ads.example', 'laptop'), 'NXDOMAIN');
    assert.equal((await req('PUT', '/api/peers/phone', { blocklists: false })).statusCode, 200);
    assert.equal(await ask('ads.example', 'phone'), 'not blocked');
    assert.equal((await req('PUT', '/api/peers/phone', { blocklists: true })).statusCode, 200);
    assert.equal((await req('PUT', '/api/peers/laptop', { blocklists: false })).statusCode, 200);
    assert.equal((await req('PUT', '/api/peers/laptop', { blocklists: 'yes' })).statusCode, 400);
    const s = await statsWhen((x) => x.total >= 3);
    assert.equal(s.total, 3);
    assert.equal(peerStats(s, 'laptop').blocked, 1, 'counted while its blocking was on');
    assert.equal(peerStats(s, 'phone').blocked, 2, 'not counted while its blocking was off');
  });

  test('the counts survive a restart of cell-api; windows; a reset forgets them', async () => {
    assert.equal(await ask('ads.example', 'phone'), 'NXDOMAIN');
    assert.equal((await statsWhen((x) => x.total >= 4)).total, 4);
    // cell-api stops and starts again on the same data directory; cell-dns keeps running.
    await kit.app.close();
    kit.cell.close();
    kit = await makeKit({}, { dns, clock: fakeClock }, kit.dir);
    admin = await login(kit.app, 'admin', ADMIN_PASSWORD);
    const s = await stats();
    assert.equal(s.total, 4);
    assert.deepEqual(s.top[0], { name: 'ads.example', count: 3 });
    assert.equal(peerStats(s, 'phone').blocked, 3);
    const week = await stats('?window=7d');
    assert.equal(week.window, '7d');
    assert.equal(week.total, 4);
    const bad = await req('GET', '/api/dns/blocklists/stats?window=1h');
    assert.equal(bad.statusCode, 400, bad.body);
    assert.deepEqual(fieldOf(bad.body), ['query.window']);
    assert.equal((await req('POST', '/api/dns/blocklists/stats/reset')).statusCode, 204);
    const after = await stats();
    assert.equal(after.total, 0);
    assert.equal(after.since, new Date(clock.t).toISOString());
    assert.equal(peerStats(after, 'phone').blocked, 0);
    assert.equal(await ask('ads.example', 'laptop'), 'not blocked');
    assert.equal(await ask('tracker.example', 'phone'), 'NXDOMAIN');
    const again = await statsWhen((x) => x.total >= 1);
    assert.deepEqual(peerStats(again, 'phone').top, [{ name: 'tracker.example', count: 1 }]);
  });

  test('upload a file; disable and enable it; oversized and wrong bodies are refused', async () => {
    const r = await upload('my list.txt', 'uploaded.example\n||adblock.example^\n0.0.0.0 localhost\n');
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.json().kind, 'upload');
    assert.equal(r.json().source, 'my list.txt');
    assert.equal(r.json().domains, 2);
    assert.equal(await ask('uploaded.example', 'phone'), 'NXDOMAIN');
    assert.equal(await ask('adblock.example', 'phone'), 'NXDOMAIN');
    const bin = await upload('bin.hosts', Buffer.from('0.0.0.0 octet.example\n'), 'application/octet-stream');
    assert.equal(bin.statusCode, 201, bin.body);
    assert.equal(await ask('octet.example', 'phone'), 'NXDOMAIN');

    const off = await req('PUT', `/api/dns/blocklists/${r.json().id}`, { enabled: false });
    assert.equal(off.statusCode, 200, off.body);
    assert.equal(off.json().enabled, false);
    assert.equal(await ask('uploaded.example', 'phone'), 'not blocked');
    assert.equal((await req('PUT', `/api/dns/blocklists/${r.json().id}`, { enabled: true })).statusCode, 200);
    assert.equal(await ask('uploaded.example', 'phone'), 'NXDOMAIN');

    const big = await upload('big.txt', Buffer.alloc(BLOCKLIST_MAX_BYTES + 1, 'a'));
    assert.equal(big.statusCode, 413, big.body);
    const empty = await upload('empty.txt', '# nothing\n"quoted" {brace}\n');
    assert.equal(empty.statusCode, 400, empty.body);
    const json = await kit.app.inject({
      method: 'POST',
      url: '/api/dns/blocklists/upload?name=x.txt',
      headers: authed(admin),
      payload: { a: 1 },
    });
    assert.equal(json.statusCode, 415, json.body);
    for (const name of ['', '../etc/passwd', 'a"b', 'a\nb']) {
      const bad = await upload(name, 'x.example\n');
      assert.equal(bad.statusCode, 400, `${JSON.stringify(name)}: ${bad.body}`);
      assert.ok(
        fieldOf(bad.body).some((f: string) => f.endsWith('name')),
        bad.body,
      );
    }
    const textElsewhere = await kit.app.inject({
      method: 'POST',
      url: '/api/dns/blocklists',
      headers: authed(admin, { 'content-type': 'text/plain' }),
      payload: 'x',
    });
    assert.equal(textElsewhere.statusCode, 415, 'raw bodies only where a route takes one');
  });

  test('bad URLs are refused naming the field; a failed fetch keeps the list with its error', async () => {
    for (const url of [
      'ftp://127.0.0.1/x',
      'file:///etc/hosts',
      'http://user:pw@127.0.0.1/x',
      'not a url',
      `${lists.url}/a\nb`,
    ]) {
      const r = await req('POST', '/api/dns/blocklists', { url });
      assert.equal(r.statusCode, 400, `${url}: ${r.body}`);
      assert.deepEqual([...new Set(fieldOf(r.body))], ['url']);
    }
    assert.equal(
      (await req('POST', '/api/dns/blocklists', { url: `${lists.url}/hosts.txt` })).statusCode,
      409,
    );
    const missing = await req('POST', '/api/dns/blocklists', { url: `${lists.url}/missing.txt` });
    assert.equal(missing.statusCode, 201, missing.body);
    assert.equal(missing.json().last_error, 'HTTP 404');
    assert.equal(missing.json().domains, 0);
    lists.answer = (r) =>
      r.path === '/to-file'
        ? { status: 302, headers: { location: 'file:///etc/hosts' } }
        : served[r.path] !== undefined
          ? { body: served[r.path] }
          : { status: 404 };
    const redirect = await req('POST', '/api/dns/blocklists', { url: `${lists.url}/to-file` });
    assert.match(redirect.json().last_error, /redirect/);
    for (const id of [missing.json().id, redirect.json().id])
      assert.equal((await req('DELETE', `/api/dns/blocklists/${id}`)).statusCode, 204);
  });

  test('refresh and the daily tick fetch the URL lists again', async () => {
    served['/hosts.txt'] = '0.0.0.0 ads.example\n0.0.0.0 fresh.example\n';
    const seen = lists.seen.length;
    await kit.cell.deps.blocklists.tick();
    assert.equal(lists.seen.length, seen, 'not due yet');
    clock.t += DAY;
    await kit.cell.deps.blocklists.tick();
    assert.equal(lists.seen.length, seen + 1);
    assert.equal(await ask('fresh.example', 'phone'), 'NXDOMAIN');
    assert.equal(await ask('tracker.example', 'phone'), 'not blocked');
    served['/hosts.txt'] = '0.0.0.0 ads.example\n0.0.0.0 manual.example\n';
    const r = await req('POST', '/api/dns/blocklists/refresh');
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(await ask('manual.example', 'phone'), 'NXDOMAIN');
  });

  test('delete unblocks', async () => {
    const all = (await req('GET', '/api/dns/blocklists')).json();
    for (const l of all) assert.equal((await req('DELETE', `/api/dns/blocklists/${l.id}`)).statusCode, 204);
    assert.equal((await req('DELETE', `/api/dns/blocklists/${all[0].id}`)).statusCode, 404);
    assert.equal(await ask('ads.example', 'phone'), 'not blocked');
    assert.equal(await ask('uploaded.example', 'phone'), 'not blocked');
    assert.equal((await stats()).blocked_names, 0);
  });

  test('admin only: 401 without a session, 403 for a peer, on every route', async () => {
    const p = await req('POST', '/api/peers?qr=false', { name: 'tablet', password: 'tablet password 123' });
    assert.equal(p.statusCode, 201, p.body);
    const peer = await login(kit.app, 'tablet', 'tablet password 123');
    const routes: Array<['GET' | 'POST' | 'PUT' | 'DELETE', string, object?]> = [
      ['GET', '/api/dns/blocklists'],
      ['POST', '/api/dns/blocklists', { url: `${lists.url}/hosts.txt` }],
      ['POST', '/api/dns/blocklists/refresh'],
      ['GET', '/api/dns/blocklists/stats'],
      ['GET', '/api/dns/blocklists/stats?window=7d'],
      ['POST', '/api/dns/blocklists/stats/reset'],
      ['PUT', '/api/dns/blocklists/1', { enabled: false }],
      ['DELETE', '/api/dns/blocklists/1'],
    ];
    for (const [method, url, body] of routes) {
      assert.equal((await req(method, url, body, peer)).statusCode, 403, `${method} ${url}`);
      const anon = await kit.app.inject({ method, url, ...(body ? { payload: body } : {}) });
      assert.equal(anon.statusCode, 401, `${method} ${url}`);
    }
    assert.equal((await upload('x.txt', 'x.example\n', 'text/plain', peer)).statusCode, 403);
    const anon = await kit.app.inject({
      method: 'POST',
      url: '/api/dns/blocklists/upload?name=x.txt',
      headers: { 'content-type': 'text/plain' },
      payload: Buffer.alloc(BLOCKLIST_MAX_BYTES + 1, 'a'),
    });
    assert.equal(anon.statusCode, 401, 'refused before the body is read');
    assert.equal((await req('GET', '/api/dns/blocklists')).json().length, 0);
  });
});
