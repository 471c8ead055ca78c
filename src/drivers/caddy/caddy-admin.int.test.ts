// The Caddy admin driver against a real Caddy on loopback: a new config is loaded through POST /load,
// an unchanged one is not sent at all, and a config Caddy refuses comes back as an AppError carrying
// Caddy's reason while the old config keeps serving. The admin API answers only the Hosts in `origins`.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AppError } from '../../core/errors.ts';
import { CaddyAdmin } from './caddy-admin.ts';

const dir = mkdtempSync(join(tmpdir(), 'pic-caddy-admin-'));
let caddy: ChildProcess | undefined;
let admin = '';
let site = '';

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

/** A small config in the shape PIC renders: the admin block, one server answering `body`. */
const config = (body: string, handler = 'static_response') =>
  JSON.stringify({
    admin: { listen: admin, origins: [admin] },
    apps: { http: { servers: { t: { listen: [site], routes: [{ handle: [{ handler, body }] }] } } } },
  });

const get = (path: string, host: string, port: number) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
const served = async () => (await get('/', site, Number(site.split(':')[1]))).body;

before(async () => {
  admin = `127.0.0.1:${await freePort()}`;
  site = `127.0.0.1:${await freePort()}`;
  const file = join(dir, 'caddy.json');
  writeFileSync(file, config('v1'));
  caddy = spawn('caddy', ['run', '--config', file], {
    env: { PATH: process.env.PATH, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
    stdio: 'ignore',
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ok = await served().then(
      (b) => b === 'v1',
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error('caddy did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
});

after(() => {
  if (caddy?.pid) process.kill(caddy.pid, 'SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

test('a new config is loaded; the same one again is not sent', async () => {
  let sent = 0;
  const driver = new CaddyAdmin({
    address: admin,
    fetch: (input, init) => {
      sent++;
      return fetch(input, init);
    },
  });
  assert.equal(await driver.load(config('v2')), 'loaded');
  assert.equal(await served(), 'v2');
  assert.equal(await driver.load(config('v2')), 'unchanged');
  assert.equal(sent, 1);
});

test("a config Caddy refuses: AppError with Caddy's reason, the old config keeps serving", async () => {
  const driver = new CaddyAdmin({ address: admin });
  assert.equal(await driver.load(config('v3')), 'loaded');
  await assert.rejects(driver.load(config('v4', 'no_such_handler')), (e: unknown) => {
    assert.ok(e instanceof AppError);
    assert.equal(e.code, 'unavailable');
    assert.match(e.message, /keeps the old one: .*no_such_handler/);
    return true;
  });
  assert.equal(await served(), 'v3');
  // Caddy still runs v3, and the driver knows it: nothing to send. The refused one is tried again.
  assert.equal(await driver.load(config('v3')), 'unchanged');
  await assert.rejects(driver.load(config('v4', 'no_such_handler')), /keeps the old one/);
});

test('an unreachable admin API is a clear AppError', async () => {
  const driver = new CaddyAdmin({ address: `127.0.0.1:${await freePort()}`, timeoutMs: 2000 });
  await assert.rejects(driver.load(config('x')), /did not answer/);
});

test('the admin API refuses a Host that is not in its origins (DNS rebinding)', async () => {
  const port = Number(admin.split(':')[1]);
  assert.equal((await get('/config/', 'evil.example:80', port)).status, 403);
  assert.equal((await get('/config/', admin, port)).status, 200);
});
