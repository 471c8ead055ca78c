// The publisher and its scheduler on a fake clock: no change → no request; a change → one request;
// an error → exponential backoff (capped); badauth → stopped until the settings change; stop() leaves
// no timer behind.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Clock } from '../ports/clock.ts';
import type { HttpReply, HttpRequest } from '../ports/http-client.ts';
import type { DdnsRecord, DdnsRepository, DdnsState } from './ddns-repository.ts';
import { DdnsScheduler } from './ddns-scheduler.ts';
import { BACKOFF_MAX_MS, backoffMs, DdnsService, REPUBLISH_MS, redact } from './ddns-service.ts';

class FakeClock implements Clock {
  t = Date.UTC(2026, 0, 1);
  timers = new Map<number, { at: number; fn: () => void }>();
  #id = 0;
  now = () => this.t;
  setTimer = (fn: () => void, ms: number) => {
    const id = ++this.#id;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimer = (h: unknown) => void this.timers.delete(h as number);
  /** Moves time on, firing each due timer in order and letting the run it starts finish. */
  async advance(ms: number, scheduler: DdnsScheduler) {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.timers.entries()]
        .filter(([, v]) => v.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      due[1].fn();
      await scheduler.idle();
    }
    this.t = end;
  }
}

class MemRepo implements DdnsRepository {
  rec: DdnsRecord | undefined;
  get = () => (this.rec ? structuredClone(this.rec) : undefined);
  put = (r: DdnsRecord) => {
    this.rec = structuredClone(r);
  };
  saveState = (s: DdnsState) => {
    this.rec = { ...this.rec!, state: structuredClone(s) };
  };
}

function setup() {
  const clock = new FakeClock();
  const repo = new MemRepo();
  let token: string | undefined;
  let ip = '203.0.113.5';
  let answer = 'good 203.0.113.5';
  const sent: HttpRequest[] = [];
  const http = {
    async send(req: HttpRequest): Promise<HttpReply> {
      if (req.url.startsWith('http://echo.test')) return { status: 200, body: `${ip}\n` };
      sent.push(req);
      return { status: 200, body: answer };
    },
  };
  const service = new DdnsService({
    repo,
    token: {
      read: () => token,
      write: (v) => {
        token = v;
      },
      remove: () => {
        token = undefined;
      },
    },
    http,
    clock,
    userAgent: 'test',
  });
  const scheduler = new DdnsScheduler(service, clock);
  const configure = () =>
    service.configure({
      provider: 'noip',
      hostname: 'home.example.org',
      token: 'user:secret-pass',
      api_url: 'http://noip.test',
      ip_echo_urls: ['http://echo.test/'],
    });
  return {
    clock,
    repo,
    service,
    scheduler,
    sent,
    configure,
    setIp: (v: string) => {
      ip = v;
    },
    answer: (v: string) => {
      answer = v;
    },
  };
}

test('no change → no request; a change → one request', async () => {
  const t = setup();
  t.scheduler.start();
  t.configure();
  await t.clock.advance(0, t.scheduler);
  assert.equal(t.sent.length, 1, 'first publish right after the settings');
  assert.equal(t.service.view().last_ip, '203.0.113.5');
  await t.clock.advance(3 * REPUBLISH_MS, t.scheduler);
  assert.equal(t.sent.length, 1, 'unchanged address: nothing sent');
  t.setIp('203.0.113.6');
  t.answer('good 203.0.113.6');
  await t.clock.advance(REPUBLISH_MS, t.scheduler);
  assert.equal(t.sent.length, 2);
  assert.match(t.sent[1]!.url, /myip=203\.0\.113\.6/);
  t.scheduler.stop();
  assert.equal(t.clock.timers.size, 0, 'stop leaves no timer');
});

test('errors back off exponentially up to the cap; 911 waits at least 30 minutes', async () => {
  const t = setup();
  t.scheduler.start();
  t.answer('something odd');
  t.configure();
  await t.clock.advance(0, t.scheduler);
  const gaps: number[] = [];
  let last = t.clock.t;
  for (let i = 0; i < 9; i++) {
    const n = t.sent.length;
    while (t.sent.length === n) await t.clock.advance(1_000, t.scheduler);
    gaps.push(t.clock.t - last);
    last = t.clock.t;
  }
  assert.deepEqual(
    gaps,
    [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => backoffMs(n)),
  );
  assert.equal(gaps.at(-1), BACKOFF_MAX_MS);
  assert.equal(t.service.view().last_error, 'No-IP: unexpected reply "something odd" (HTTP 200)');
  t.answer('911');
  t.setIp('203.0.113.9');
  const out = await t.service.publish({ manual: true });
  assert.equal(out.outcome, 'retry');
  assert.ok(Date.parse(out.next_attempt!) - t.clock.t >= 30 * 60_000);
  t.scheduler.stop();
});

test('badauth stops until the settings change; the token never shows in the error', async () => {
  const t = setup();
  t.scheduler.start();
  t.answer('badauth');
  t.configure();
  await t.clock.advance(0, t.scheduler);
  assert.equal(t.sent.length, 1);
  const v = t.service.view();
  assert.equal(v.stopped, true);
  assert.equal(v.next_attempt, null);
  assert.match(v.last_error!, /badauth/);
  t.setIp('203.0.113.7');
  await t.clock.advance(10 * REPUBLISH_MS, t.scheduler);
  assert.equal(t.sent.length, 1, 'stopped: nothing sent, even for a new address');
  t.answer('good 203.0.113.7');
  t.configure();
  await t.clock.advance(0, t.scheduler);
  assert.equal(t.sent.length, 2, 'new settings: publishing again');
  assert.equal(t.service.view().stopped, false);
  t.scheduler.stop();
});

test('no echo URL: nothing is sent, anywhere', async () => {
  const t = setup();
  t.scheduler.start();
  t.service.configure({ provider: 'noip', hostname: 'home.example.org', token: 'u:p' });
  await t.clock.advance(3 * REPUBLISH_MS, t.scheduler);
  assert.equal(t.sent.length, 0);
  assert.match(t.service.view().last_error!, /no IP echo URL/);
  t.scheduler.stop();
});

test('the token is required when the provider changes, kept otherwise', () => {
  const t = setup();
  t.configure();
  t.service.configure({ provider: 'noip', hostname: 'other.example.org' });
  // A new API URL is a new destination for the stored token: it must be given again.
  assert.throws(
    () => t.service.configure({ provider: 'noip', hostname: 'h.example.org', api_url: 'http://evil.test' }),
    (e: { fields?: { field: string }[] }) => e.fields?.[0]?.field === 'token',
  );
  t.service.configure({
    provider: 'noip',
    hostname: 'h.example.org',
    api_url: 'http://evil.test',
    token: 'u:p',
  });
  assert.throws(
    () => t.service.configure({ provider: 'freedns', hostname: 'other.example.org' }),
    (e: { fields?: { field: string }[] }) => e.fields?.[0]?.field === 'token',
  );
});

test('redact removes the token in its plain, URL-encoded and base64 forms', () => {
  const tok = 'user:p@ss/word';
  const msg = `a ${tok} b ${encodeURIComponent(tok)} c ${Buffer.from(tok).toString('base64')}`;
  assert.equal(redact(msg, tok), 'a [token] b [token] c [token]');
});
