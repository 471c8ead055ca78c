// The DDNS API on a real cell: validation (400 naming the field), the token kept write-only (a 0600
// file, never in GET, the database, an audit row or a log line), CSRF on every write, and the
// scheduler on a fake clock through the composition (no change → no request, change → one, error →
// backoff, badauth → stopped until PUT). Every URL points at a fake on 127.0.0.1.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Clock } from '../core/ports/clock.ts';
import { type FakeServer, fakeHttp } from './fake-http-kit.ts';
import { authed, completeSetup, type Kit, type Login, makeKit } from './test-kit.ts';

const TOKEN = 'me@example.org:Very-S3cret-Pass';

class FakeClock implements Clock {
  t = Date.now();
  timers = new Map<number, { at: number; fn: () => void }>();
  #id = 0;
  now = () => this.t;
  setTimer = (fn: () => void, ms: number) => {
    this.timers.set(++this.#id, { at: this.t + ms, fn });
    return this.#id;
  };
  clearTimer = (h: unknown) => {
    this.timers.delete(h as number);
  };
}

describe('DDNS API', () => {
  const clock = new FakeClock();
  let kit: Kit;
  let admin: Login;
  let echo: FakeServer;
  let noip: FakeServer;
  let ip = '203.0.113.10';

  /** Fires every timer due within ms, waiting for each run, like time passing. */
  async function advance(ms: number) {
    const end = clock.t + ms;
    for (;;) {
      const due = [...clock.timers].filter(([, v]) => v.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      clock.timers.delete(due[0]);
      clock.t = Math.max(clock.t, due[1].at);
      due[1].fn();
      await kit.cell.ddnsScheduler!.idle();
    }
    clock.t = end;
  }

  before(async () => {
    kit = await makeKit({}, { clock });
    admin = await completeSetup(kit);
    echo = await fakeHttp(() => ({ body: ip }));
    noip = await fakeHttp(() => ({ body: `good ${ip}` }));
  });
  after(async () => {
    await kit.close();
    assert.equal(clock.timers.size, 0, 'closing the cell stops the scheduler');
    await echo.close();
    await noip.close();
  });

  const put = (payload: unknown, headers: Record<string, string> = authed(admin)) =>
    kit.app.inject({ method: 'PUT', url: '/api/ddns', headers, payload: payload as object });
  const get = async () => (await kit.app.inject({ url: '/api/ddns', headers: authed(admin) })).json();
  const good = () => ({
    provider: 'noip',
    hostname: 'home.example.org',
    token: TOKEN,
    api_url: noip.url,
    ip_echo_urls: [`${echo.url}/`],
  });

  test('not configured: GET says so; POST update is a 409', async () => {
    const v = await get();
    assert.equal(v.configured, false);
    const r = await kit.app.inject({ method: 'POST', url: '/api/ddns/update', headers: authed(admin) });
    assert.equal(r.statusCode, 409);
  });

  test('bad settings: 400 naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ api_url: 'ftp://127.0.0.1/' }, 'api_url'],
      [{ api_url: 'http://user:pw@127.0.0.1/' }, 'api_url'],
      [{ api_url: 'http://127.0.0.1/\nHost: x' }, 'api_url'],
      [{ api_url: 'not a url' }, 'api_url'],
      [{ ip_echo_urls: ['javascript:alert(1)'] }, 'ip_echo_urls.0'],
      [{ ip_echo_urls: ['https://a@127.0.0.1/'] }, 'ip_echo_urls.0'],
      [{ hostname: 'home.example.org\nx' }, 'hostname'],
      [{ hostname: '$(id)' }, 'hostname'],
      [{ token: 'a\nb' }, 'token'],
      [{ token: 'no-colon' }, 'token'],
      [{ provider: 'dyndns' }, 'provider'],
      [{ provider: 'cloudflare', token: 'cf' }, 'zone_id'],
      [{ provider: 'duckdns', token: 'x' }, 'hostname'],
      [{ extra: 1 }, 'extra'],
    ];
    for (const [over, field] of cases) {
      const r = await put({ ...good(), ...over });
      assert.equal(r.statusCode, 400, `${JSON.stringify(over)}: ${r.body}`);
      assert.ok(
        r.json().fields.some((f: { field: string }) => f.field === field),
        `${JSON.stringify(over)} → ${r.body}`,
      );
      assert.ok(!r.body.includes('S3cret'), 'no token in an error');
    }
  });

  test('writes need the CSRF token', async () => {
    const noCsrf = { cookie: admin.cookie };
    assert.equal((await put(good(), noCsrf)).statusCode, 403);
    const r = await kit.app.inject({ method: 'POST', url: '/api/ddns/update', headers: noCsrf });
    assert.equal(r.statusCode, 403);
  });

  test('PUT stores the token in a 0600 file, never in GET or the database; publishes at once', async () => {
    const r = await put(good());
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().token_set, true);
    assert.ok(!r.body.includes('S3cret'));
    const file = join(kit.cell.paths.secrets, 'ddns', 'token');
    assert.equal(readFileSync(file, 'utf8').trim(), TOKEN);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(kit.cell.paths.secrets, 'ddns')).mode & 0o777, 0o700);
    await advance(0);
    assert.equal(noip.seen.length, 1, 'the first publish right after the settings');
    const v = await get();
    assert.equal(v.last_ip, ip);
    assert.equal(v.last_error, null);
    assert.ok(v.last_update);
    assert.ok(Date.parse(v.next_attempt) > clock.t);
    assert.ok(!JSON.stringify(v).includes('S3cret'));
    const dump = JSON.stringify(kit.cell.db.prepare('SELECT * FROM ddns').all());
    assert.ok(!dump.includes('S3cret'), 'not in the database');
  });

  test('no change → no request; a change → one request', async () => {
    const before = noip.seen.length;
    await advance(20 * 60_000);
    assert.equal(noip.seen.length, before, 'same address: nothing sent');
    assert.ok(echo.seen.length >= 4, 'the echo was asked each 5 minutes');
    ip = '203.0.113.11';
    await advance(5 * 60_000);
    assert.equal(noip.seen.length, before + 1);
    assert.equal(noip.seen.at(-1)!.query.myip, '203.0.113.11');
  });

  test('an error backs off, longer each time', async () => {
    noip.answer = () => ({ status: 500, body: '' });
    ip = '203.0.113.12';
    const start = noip.seen.length;
    const times: number[] = [];
    while (noip.seen.length < start + 4) {
      const n = noip.seen.length;
      await advance(10_000);
      if (noip.seen.length > n) times.push(clock.t);
    }
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    assert.ok(gaps[1]! > gaps[0]! && gaps[2]! > gaps[1]!, `gaps grow: ${gaps}`);
    assert.match((await get()).last_error, /HTTP 500/);
  });

  test('badauth stops until the settings change (PUT), then publishing resumes', async () => {
    noip.answer = () => ({ status: 401, body: 'badauth' });
    await advance(2 * 60 * 60_000);
    const v = await get();
    assert.equal(v.stopped, true);
    assert.equal(v.next_attempt, null);
    assert.match(v.last_error, /badauth/);
    const n = noip.seen.length;
    ip = '203.0.113.13';
    await advance(60 * 60_000);
    assert.equal(noip.seen.length, n, 'stopped: nothing sent');
    noip.answer = () => ({ body: `good ${ip}` });
    const { token: _, ...keep } = good();
    const r = await put(keep); // the stored token is kept for the same provider
    assert.equal(r.statusCode, 200, r.body);
    await advance(0);
    assert.equal(noip.seen.length, n + 1);
    assert.equal((await get()).stopped, false);
    assert.equal(noip.seen.at(-1)!.headers.authorization, `Basic ${Buffer.from(TOKEN).toString('base64')}`);
  });

  test('POST /api/ddns/update publishes now and returns the outcome', async () => {
    const r = await kit.app.inject({ method: 'POST', url: '/api/ddns/update', headers: authed(admin) });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().outcome, 'updated');
    assert.equal(r.json().ip, ip);
  });

  test('the token is in no audit row and no log line', () => {
    const audit = JSON.stringify(kit.cell.db.prepare('SELECT * FROM audit').all());
    assert.match(audit, /PUT \/api\/ddns/);
    const logs = readdirSync(kit.cell.paths.logs)
      .map((f) => readFileSync(join(kit.cell.paths.logs, f), 'utf8'))
      .join('\n');
    for (const form of [TOKEN, 'S3cret', Buffer.from(TOKEN).toString('base64'), encodeURIComponent(TOKEN)]) {
      assert.ok(!audit.includes(form), `audit: ${form}`);
      assert.ok(!logs.includes(form), `logs: ${form}`);
    }
  });
});
