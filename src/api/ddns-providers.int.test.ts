// Each DDNS provider through the API against a fake of it on 127.0.0.1: PUT /api/ddns names the fake
// as api_url and a fake IP echo, POST /api/ddns/update publishes; the fake checks the exact request
// (method, path, query, auth header, user agent, body) and answers each documented reply.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type FakeServer, fakeHttp, type SeenRequest } from './fake-http-kit.ts';
import { authed, completeSetup, type Kit, type Login, makeKit } from './test-kit.ts';

const IP = '203.0.113.5';
const ZONE = '0123456789abcdef0123456789abcdef';

let kit: Kit;
let admin: Login;
let echo: FakeServer;
let provider: FakeServer;
let UA: string;

before(async () => {
  // No scheduler: each publish here is the test's own POST.
  kit = await makeKit({}, { background: false });
  admin = await completeSetup(kit);
  UA = `PIC pic-cell/${kit.cell.deps.version}`;
  echo = await fakeHttp(() => ({ body: `${IP}\n` }));
  provider = await fakeHttp();
});
after(async () => {
  await echo.close();
  await provider.close();
  await kit.close();
});

async function configure(body: Record<string, unknown>) {
  const r = await kit.app.inject({
    method: 'PUT',
    url: '/api/ddns',
    headers: authed(admin),
    payload: { api_url: provider.url, ip_echo_urls: [`${echo.url}/ip`], ...body },
  });
  assert.equal(r.statusCode, 200, r.body);
}

async function publish(answer: (req: SeenRequest) => { status?: number; body?: string }) {
  provider.seen.length = 0;
  provider.answer = answer;
  const r = await kit.app.inject({ method: 'POST', url: '/api/ddns/update', headers: authed(admin) });
  assert.equal(r.statusCode, 200, r.body);
  return { out: r.json(), seen: [...provider.seen] };
}

describe('noip (dyndns2)', () => {
  before(() => configure({ provider: 'noip', hostname: 'home.example.org', token: 'me@example.org:s3cret' }));

  test('GET /nic/update?hostname=&myip= with Basic auth and the User-Agent', async () => {
    const { out, seen } = await publish(() => ({ body: `good ${IP}` }));
    assert.equal(out.outcome, 'updated');
    assert.equal(seen.length, 1);
    const [r] = seen;
    assert.equal(r!.method, 'GET');
    assert.equal(r!.target, `/nic/update?hostname=home.example.org&myip=${IP}`);
    assert.equal(
      r!.headers.authorization,
      `Basic ${Buffer.from('me@example.org:s3cret').toString('base64')}`,
    );
    assert.equal(r!.headers['user-agent'], UA);
  });

  test('every documented reply', async () => {
    const want = [
      [`good ${IP}`, 'updated'],
      [`nochg ${IP}`, 'unchanged'],
      ['nohost', 'stopped'],
      ['badauth', 'stopped'],
      ['badagent', 'stopped'],
      ['!donator', 'stopped'],
      ['abuse', 'stopped'],
      ['911', 'retry'],
    ];
    for (const [body = '', outcome] of want) {
      const { out } = await publish(() => ({ status: body === 'badauth' ? 401 : 200, body }));
      assert.equal(out.outcome, outcome, body);
      assert.doesNotMatch(out.message, /s3cret/);
    }
    const v = (await kit.app.inject({ url: '/api/ddns', headers: authed(admin) })).json();
    assert.match(v.last_error, /911/, JSON.stringify(v));
    assert.ok(Date.parse(v.next_attempt) - Date.now() >= 29 * 60_000, '911 waits ≥ 30 min');
  });
});

describe('duckdns', () => {
  before(() =>
    configure({
      provider: 'duckdns',
      hostname: 'mycell.duckdns.org',
      token: 'a7c4d0ad-1111-2222-3333-444455556666',
    }),
  );

  test('GET /update?domains=&token=&ip=&verbose=true; OK/UPDATED, OK/NOCHANGE, KO', async () => {
    const { out, seen } = await publish(() => ({ body: `OK\n${IP}\n\nUPDATED` }));
    assert.equal(out.outcome, 'updated');
    assert.equal(seen[0]!.method, 'GET');
    assert.equal(seen[0]!.path, '/update');
    assert.deepEqual(seen[0]!.query, {
      domains: 'mycell',
      token: 'a7c4d0ad-1111-2222-3333-444455556666',
      ip: IP,
      verbose: 'true',
    });
    assert.equal(seen[0]!.headers['user-agent'], UA);
    assert.equal((await publish(() => ({ body: `OK\n${IP}\n\nNOCHANGE` }))).out.outcome, 'unchanged');
    const ko = await publish(() => ({ body: 'KO' }));
    assert.equal(ko.out.outcome, 'stopped');
    assert.doesNotMatch(ko.out.message, /a7c4d0ad/);
  });
});

describe('freedns (token update URL)', () => {
  before(() => configure({ provider: 'freedns', hostname: 'home.mooo.com', token: 'VXBkYXRlVG9rZW4xMjM0' }));

  test('GET /dynamic/update.php?<token>&address=; its replies', async () => {
    const { out, seen } = await publish(() => ({
      body: `Updated 1 host(s) home.mooo.com to ${IP} in 0.1 seconds`,
    }));
    assert.equal(out.outcome, 'updated');
    assert.equal(seen[0]!.method, 'GET');
    assert.equal(seen[0]!.target, `/dynamic/update.php?VXBkYXRlVG9rZW4xMjM0&address=${IP}`);
    assert.equal(
      (await publish(() => ({ body: `ERROR: Address ${IP} has not changed.` }))).out.outcome,
      'unchanged',
    );
    const gone = await publish(() => ({
      body: 'ERROR: Unable to locate this record (changed password recently? deleted record?)',
    }));
    assert.equal(gone.out.outcome, 'stopped');
    assert.equal((await publish(() => ({ status: 503, body: '' }))).out.outcome, 'retry');
  });
});

describe('pic_ngo', () => {
  before(() => configure({ provider: 'pic_ngo', hostname: 'home.pic.ngo', token: 'picngo-token-123' }));

  test('POST /v1/ddns/address with a Bearer token and JSON; its replies', async () => {
    const { out, seen } = await publish(() => ({ body: '{"status":"updated"}' }));
    assert.equal(out.outcome, 'updated');
    const [r] = seen;
    assert.equal(r!.method, 'POST');
    assert.equal(r!.target, '/v1/ddns/address');
    assert.equal(r!.headers.authorization, 'Bearer picngo-token-123');
    assert.equal(r!.headers['content-type'], 'application/json');
    assert.equal(r!.headers['user-agent'], UA);
    assert.deepEqual(JSON.parse(r!.body), { hostname: 'home.pic.ngo', ip: IP });
    assert.equal((await publish(() => ({ body: '{"status":"unchanged"}' }))).out.outcome, 'unchanged');
    assert.equal((await publish(() => ({ status: 401 }))).out.outcome, 'stopped');
    assert.equal((await publish(() => ({ status: 404 }))).out.outcome, 'stopped');
    assert.equal((await publish(() => ({ status: 429 }))).out.outcome, 'retry');
  });
});

describe('cloudflare (API v4)', () => {
  before(() =>
    configure({ provider: 'cloudflare', hostname: 'home.example.org', zone_id: ZONE, token: 'cf-token_ABC' }),
  );
  const cf = (result: unknown) => ({ body: JSON.stringify({ success: true, errors: [], result }) });

  test('finds the record by GET, then PATCHes it with the Bearer token; later publishes reuse the id', async () => {
    const { out, seen } = await publish((r) =>
      r.method === 'GET' ? cf([{ id: 'rec123', content: '198.51.100.1' }]) : cf({ id: 'rec123' }),
    );
    assert.equal(out.outcome, 'updated', out.message);
    assert.equal(seen.length, 2);
    assert.equal(seen[0]!.method, 'GET');
    assert.equal(seen[0]!.target, `/zones/${ZONE}/dns_records?type=A&name=home.example.org`);
    assert.equal(seen[0]!.headers.authorization, 'Bearer cf-token_ABC');
    assert.equal(seen[1]!.method, 'PATCH');
    assert.equal(seen[1]!.target, `/zones/${ZONE}/dns_records/rec123`);
    assert.equal(seen[1]!.headers.authorization, 'Bearer cf-token_ABC');
    assert.equal(seen[1]!.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(seen[1]!.body), { content: IP });
    const again = await publish(() => cf({ id: 'rec123' }));
    assert.deepEqual(
      again.seen.map((r) => r.method),
      ['PATCH'],
    );
  });

  test('a refused token stops; a 5xx retries', async () => {
    const denied = await publish(() => ({
      status: 403,
      body: JSON.stringify({ success: false, errors: [{ code: 9109, message: 'Invalid access token' }] }),
    }));
    assert.equal(denied.out.outcome, 'stopped');
    assert.doesNotMatch(denied.out.message, /cf-token/);
    assert.equal((await publish(() => ({ status: 502, body: '' }))).out.outcome, 'retry');
  });
});
