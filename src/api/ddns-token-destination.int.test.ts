// The stored DDNS token is write-only: a session that can change the settings (a stolen one included)
// must not be able to send it somewhere new. Keeping the stored token is allowed only while the token
// goes where it went before (same provider, same API URL) or to the provider's own default URL; any
// other destination needs the token again.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Clock } from '../core/ports/clock.ts';
import { type FakeServer, fakeHttp } from './fake-http-kit.ts';
import { authed, completeSetup, type Kit, type Login, makeKit } from './test-kit.ts';

const TOKEN = 'owner-Very-S3cret-Token';

/** The scheduler's timers never fire: only "Update now" publishes. */
const stillClock: Clock = { now: () => Date.now(), setTimer: () => 0, clearTimer: () => {} };

describe('DDNS: the stored token never goes to a new URL without being given again', () => {
  let kit: Kit;
  let admin: Login;
  let provider: FakeServer;
  let attacker: FakeServer;
  let echo: FakeServer;

  before(async () => {
    kit = await makeKit({}, { clock: stillClock });
    admin = await completeSetup(kit);
    provider = await fakeHttp(() => ({ body: '{"status":"updated"}' }));
    attacker = await fakeHttp(() => ({ body: '{"status":"updated"}' }));
    echo = await fakeHttp(() => ({ body: '203.0.113.7' }));
  });
  after(async () => {
    await kit.close();
    await provider.close();
    await attacker.close();
    await echo.close();
  });

  const put = (payload: unknown) =>
    kit.app.inject({ method: 'PUT', url: '/api/ddns', headers: authed(admin), payload: payload as object });
  const publish = () => kit.app.inject({ method: 'POST', url: '/api/ddns/update', headers: authed(admin) });

  test('a new api_url without the token is refused (400 on token); nothing reaches the new URL', async () => {
    const base = { provider: 'pic_ngo', hostname: 'home.example.org', ip_echo_urls: [echo.url] };
    assert.equal((await put({ ...base, token: TOKEN, api_url: provider.url })).statusCode, 200);

    const moved = await put({ ...base, api_url: attacker.url });
    assert.equal(moved.statusCode, 400, moved.body);
    assert.ok(
      moved.json().fields.some((f: { field: string }) => f.field === 'token'),
      moved.body,
    );
    await publish();
    assert.ok(
      attacker.seen.every((r) => !JSON.stringify(r.headers).includes('S3cret')),
      'the token never reached the new URL',
    );

    // The same URL written another way is a new one: only an exact match (or the provider's own
    // default URL) keeps the stored token.
    const other = await put({ ...base, api_url: provider.url.replace('127.0.0.1', 'localhost') });
    assert.equal(other.statusCode, 400, other.body);

    // The same URL (a trailing slash aside) keeps the stored token, as the settings form sends it.
    assert.equal((await put({ ...base, api_url: `${provider.url}/` })).statusCode, 200);
    // Given again, the token may go to a new URL.
    assert.equal((await put({ ...base, token: TOKEN, api_url: attacker.url })).statusCode, 200);
  });
});
