// `pic admin reset-password` turns two-factor login off (whoever lost the password may have lost the
// phone too) and says so; run as a person runs it, a child process on the data dir of a live API.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import {
  ADMIN_PASSWORD,
  authed,
  completeSetup,
  type Kit,
  type Login,
  login,
  makeKit,
} from '../api/test-kit.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

function pic(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(NODE, [MAIN, ...args], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const lastLine = (s: string) => s.trimEnd().split('\n').at(-1) ?? '';

let kit: Kit;
let admin: Login;
before(async () => {
  kit = await makeKit();
  admin = await completeSetup(kit);
});
after(() => kit.close());

test('reset-password turns two-factor off, says so, and the new password logs in without a code', async () => {
  const setup = await kit.app.inject({ method: 'POST', url: '/api/auth/totp/setup', headers: authed(admin) });
  const secret = Secret.fromBase32(setup.json().secret);
  const code = new TOTP({ secret }).generate();
  const en = await kit.app.inject({
    method: 'POST',
    url: '/api/auth/totp/enable',
    headers: authed(admin),
    payload: { password: ADMIN_PASSWORD, code },
  });
  assert.equal(en.statusCode, 200, en.body);
  const noCode = await kit.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username: 'admin', password: ADMIN_PASSWORD },
  });
  assert.equal(noCode.json().error, 'totp_required');

  const r = await pic(['admin', 'reset-password', '--data-dir', kit.cell.paths.data]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Two-factor login was turned off for admin/);
  const password = lastLine(r.stdout);
  assert.match(password, /^[A-Za-z2-9]{20}$/, 'the password stays alone on the last line');

  const fresh = await login(kit.app, 'admin', password);
  const me = await kit.app.inject({ url: '/api/auth/me', headers: authed(fresh) });
  assert.equal(me.json().totp_enabled, false);
  const audit = kit.cell.deps.audit.query({ action: 'reset-password', limit: 5, offset: 0 }).items;
  assert.equal(audit[0]?.detail, 'two-factor login turned off');
  assert.ok(!JSON.stringify(audit).includes(setup.json().secret), 'no secret in the audit row');

  // Run again with two-factor already off: it says so too.
  const again = await pic(['admin', 'reset-password', '--data-dir', kit.cell.paths.data]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Two-factor login was not on for admin/);
});

test("a reset in another process (the CLI) lifts the lock a stranger's guesses put on the account", async () => {
  // 30 failures from 7 addresses spend the account's global budget: an address never seen is refused.
  for (let i = 0; i < 30; i++) {
    await kit.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'admin', password: `guess-${i}` },
      remoteAddress: `198.51.100.${Math.floor(i / 5) + 1}`,
    });
  }
  const fromNew = () =>
    kit.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'admin', password: current },
      remoteAddress: '203.0.113.9',
    });
  let current = 'not-known-yet';
  assert.equal((await fromNew()).statusCode, 429, 'locked for unknown sources');
  const r = await pic(['admin', 'reset-password', '--data-dir', kit.cell.paths.data]);
  assert.equal(r.code, 0, r.stderr);
  current = lastLine(r.stdout);
  const after = await fromNew();
  assert.equal(after.statusCode, 200, `the new password logs in at once: ${after.body}`);
});
