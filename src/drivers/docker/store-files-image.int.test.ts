// The built-in files service (images/store/files: nginx + libnginx-mod-http-dav-ext) built with
// buildImage and run on the real engine with its manifest's settings (all capabilities dropped but
// its six, 64 MB). Accounts come from the manifest's hooks (password on stdin); over WebDAV (plain
// HTTP on the container's bridge address, as Caddy reaches it) alice makes a folder, uploads, lists,
// reads, moves, copies and deletes; every path trick we know (dot segments raw and encoded, encoded
// slashes, absolute URIs, prefixes, MOVE/COPY destinations, http:// or https://) stays inside alice's folder; a wrong
// password is 401; a removed account can no longer log in. Quotas: the settings hook takes the
// quota (a strict JSON object on stdin), the background scan marks an account over it within its
// interval, and its PUT, MKCOL and COPY answer 507 while reads, moves and deletes go on; deleting
// makes room again. Idle memory is checked against the goal.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type RunningService, request, skipReason, startService } from './store-image-kit.ts';

const skip = await skipReason();
const PORT = 80;
const ALICE = 'alice:correct horse battery';
const BOB = 'bob:another long password';
const SECRET = 'bob-secret-4711\n';

describe('store image: files (nginx WebDAV)', { skip }, () => {
  let svc: RunningService;
  const dav = (method: string, path: string, auth: string, headers?: Record<string, string>, body?: string) =>
    request(svc.ip, PORT, method, path, { auth, ...(headers ? { headers } : {}), ...(body ? { body } : {}) });
  const bobDir = () => join(svc.hostDir, 'users', 'bob');
  const bobFiles = () => readdirSync(bobDir()).sort();

  before(async () => {
    svc = await startService('files');
    await svc.hook('add', 'alice', ALICE.split(':')[1]);
    await svc.hook('add', 'bob', BOB.split(':')[1]);
    const put = await dav('PUT', '/secret.txt', BOB, {}, SECRET);
    assert.equal(put.status, 201);
  });
  after(async () => {
    await svc?.stop();
  });

  test('the master runs as root, the workers as pic-files (1000, cell-api’s uid); the health check passes', async () => {
    const procs = await svc.processes();
    const master = procs.filter(([, cmd]) => cmd.includes('master process'));
    const workers = procs.filter(([, cmd]) => cmd.includes('worker process'));
    // The quota scan: its loop and the sleep between two scans (root: it reads every folder).
    const quota = procs.filter(([, cmd]) => /pic-files-quota loop|^sleep /.test(cmd));
    assert.equal(master.length, 1, JSON.stringify(procs));
    assert.equal(master[0]![0], '0');
    assert.ok(workers.length >= 1, JSON.stringify(procs));
    for (const [uid] of workers) assert.equal(uid, '1000', JSON.stringify(procs));
    assert.ok(
      quota.some(([, cmd]) => cmd.includes('pic-files-quota loop')),
      JSON.stringify(procs),
    );
    assert.ok(procs.length <= master.length + workers.length + quota.length + 3, JSON.stringify(procs));
    const r = await svc.exec(['/usr/local/bin/pic-files-healthcheck']);
    assert.equal(r.exitCode, 0, r.stdout);
    const health = await request(svc.ip, PORT, 'GET', '/.pic-health');
    assert.equal(health.status, 200);
  });

  test('the list hook names both accounts; the password file holds sha512-crypt hashes only', async () => {
    assert.deepEqual((await svc.hook('list')).trim().split('\n').sort(), ['alice', 'bob']);
    const db = readFileSync(join(svc.hostDir, 'htpasswd'), 'utf8');
    for (const line of db.trim().split('\n')) assert.match(line, /^[a-z]+:\$6\$/);
    assert.doesNotMatch(db, /correct horse|another long/);
  });

  test('alice: MKCOL, PUT, PROPFIND, GET, MOVE, COPY, DELETE in her own folder', async () => {
    const base = `http://${svc.ip}`;
    assert.equal((await dav('MKCOL', '/docs/', ALICE)).status, 201);
    assert.equal((await dav('PUT', '/docs/a.txt', ALICE, {}, 'hello from alice\n')).status, 201);
    const list = await dav('PROPFIND', '/docs/', ALICE, { depth: '1' });
    assert.equal(list.status, 207);
    assert.match(list.body, /<D:href>\/docs\/a\.txt<\/D:href>/);
    const get = await dav('GET', '/docs/a.txt', ALICE);
    assert.equal(get.status, 200);
    assert.equal(get.body, 'hello from alice\n');
    const move = await dav('MOVE', '/docs/a.txt', ALICE, { destination: `${base}/docs/b.txt` });
    assert.ok([201, 204].includes(move.status), `MOVE: ${move.status}`);
    assert.equal((await dav('GET', '/docs/a.txt', ALICE)).status, 404);
    // A destination given as a path (what a proxy in front may rewrite an https:// URI to).
    const copy = await dav('COPY', '/docs/b.txt', ALICE, { destination: '/c.txt' });
    assert.ok([201, 204].includes(copy.status), `COPY: ${copy.status}`);
    assert.equal((await dav('GET', '/c.txt', ALICE)).body, 'hello from alice\n');
    // Behind Caddy clients name the target https://files.<domain>/...: same host, so it is taken as
    // its path; another host stays refused.
    const viaHttps = await dav('MOVE', '/c.txt', ALICE, { destination: `https://${svc.ip}/d.txt` });
    assert.ok([201, 204].includes(viaHttps.status), `MOVE to https://: ${viaHttps.status}`);
    const elsewhere = await dav('COPY', '/d.txt', ALICE, { destination: 'https://other.example/e.txt' });
    assert.equal(elsewhere.status, 400);
    assert.equal((await dav('MOVE', '/d.txt', ALICE, { destination: `${base}/c.txt` })).status, 204);
    assert.equal((await dav('DELETE', '/docs/b.txt', ALICE)).status, 204);
    assert.equal((await dav('GET', '/docs/b.txt', ALICE)).status, 404);
    assert.deepEqual(readdirSync(join(svc.hostDir, 'users', 'alice')).sort(), ['c.txt', 'docs']);
  });

  test('no path trick reaches bob’s folder', async () => {
    const ip = svc.ip;
    const paths = [
      '/../bob/secret.txt',
      '/docs/../../bob/secret.txt',
      '/%2e%2e/bob/secret.txt',
      '/%2E%2E/bob/secret.txt',
      '/.%2e/bob/secret.txt',
      '/..%2fbob%2fsecret.txt',
      '/%2e%2e%2fbob%2fsecret.txt',
      '/..%252fbob%252fsecret.txt',
      '//..//bob/secret.txt',
      '/..\\bob\\secret.txt',
      '/..;/bob/secret.txt',
      '/bob/secret.txt',
      '/users/bob/secret.txt',
      '/dav-bob/secret.txt',
      '/dav/../bob/secret.txt',
      '/secret.txt',
      `http://${ip}/../bob/secret.txt`,
      `http://${ip}/%2e%2e/bob/secret.txt`,
      `http://${ip}/..%2fbob%2fsecret.txt`,
      'http://bob/secret.txt',
    ];
    for (const path of paths) {
      for (const method of ['GET', 'PROPFIND', 'DELETE']) {
        const r = await dav(method, path, ALICE, { depth: '1' });
        assert.ok(r.status >= 400, `${method} ${path}: ${r.status}`);
        assert.ok(!r.body.includes('bob-secret'), `${method} ${path} leaked bob's file`);
      }
      const put = await dav('PUT', path.replace('secret.txt', 'planted.txt'), ALICE, {}, 'planted\n');
      assert.ok(put.status >= 400 || !bobFiles().includes('planted.txt'), `PUT ${path}: ${put.status}`);
    }
    const dests = [
      `http://${ip}/../bob/stolen.txt`,
      `http://${ip}/%2e%2e/bob/stolen.txt`,
      `http://${ip}/..%2fbob%2fstolen.txt`,
      `http://${ip}/%2E%2E%2Fbob%2Fstolen.txt`,
      `http://${ip}//../bob/stolen.txt`,
      `https://${ip}/../bob/stolen.txt`,
      `https://${ip}/%2e%2e/bob/stolen.txt`,
      `https://${ip}/..%2fbob%2fstolen.txt`,
      `https://${ip}//../bob/stolen.txt`,
      `https://${ip} /../bob/stolen.txt`,
      '/../bob/stolen.txt',
      '/%2e%2e/bob/stolen.txt',
      'http://other.example/../bob/stolen.txt',
      `http://${ip}/../bob/secret.txt`,
    ];
    assert.equal((await dav('PUT', '/mine.txt', ALICE, {}, 'alice owns this\n')).status, 201);
    for (const destination of dests) {
      for (const method of ['COPY', 'MOVE']) {
        const r = await dav(method, '/mine.txt', ALICE, { destination, overwrite: 'T' });
        assert.ok(r.status >= 400, `${method} → ${destination}: ${r.status}`);
      }
      // And the other way: bob's file as the source.
      const back = await dav('COPY', '/../bob/secret.txt', ALICE, { destination: `http://${ip}/got.txt` });
      assert.ok(back.status >= 400, `COPY from bob: ${back.status}`);
    }
    assert.deepEqual(bobFiles(), ['secret.txt']);
    assert.equal(readFileSync(join(bobDir(), 'secret.txt'), 'utf8'), SECRET);
    assert.ok(!readdirSync(join(svc.hostDir, 'users', 'alice')).includes('got.txt'));
  });

  test('a wrong password, another account’s name and no credentials are 401', async () => {
    for (const auth of ['alice:wrong', 'bob:correct horse battery', '../bob:another long password', '']) {
      const r = await dav('GET', '/', auth);
      assert.equal(r.status, 401, `"${auth}": ${r.status}`);
    }
  });

  test('remove: bob disappears from the list, can no longer log in, his folder is kept aside', async () => {
    await svc.hook('remove', 'bob');
    assert.deepEqual((await svc.hook('list')).trim().split('\n'), ['alice']);
    assert.equal((await dav('GET', '/secret.txt', BOB)).status, 401);
    const removed = readdirSync(join(svc.hostDir, 'removed'));
    assert.equal(removed.length, 1);
    assert.match(removed[0]!, /^bob-\d+$/);
    assert.equal((await dav('GET', '/mine.txt', ALICE)).status, 200);
  });

  test('quota: the settings hook refuses anything but {"quota_mb": <integer|null>}', async () => {
    for (const bad of [
      '',
      '{}',
      '{"quota_mb": -1}',
      '{"quota_mb": 0}',
      '{"quota_mb": 99999999}',
      '{"quota_mb": "5"}',
      '{"quota_mb": 5, "x": 1}',
      '{"quota_mb": 5\n}\ninclude /etc/passwd;',
    ]) {
      const r = await svc.exec(['/usr/local/bin/pic-files-settings'], bad);
      assert.equal(r.exitCode, 2, `${JSON.stringify(bad)}: ${r.stdout}${r.stderr}`);
    }
    const unset = await svc.exec(['/usr/local/bin/pic-files-settings'], '{"quota_mb": null}');
    assert.equal(unset.exitCode, 0, unset.stderr);
    assert.equal(readFileSync(join(svc.hostDir, 'settings.json'), 'utf8'), '{"quota_mb":1024}\n');
  });

  test('quota: over it, PUT/MKCOL/COPY answer 507 over WebDAV; GET, MOVE, DELETE work; deleting makes room', async () => {
    const set = await svc.exec(['/usr/local/bin/pic-files-settings'], '{"quota_mb": 1}');
    assert.equal(set.exitCode, 0, set.stderr);
    assert.equal(readFileSync(join(svc.hostDir, 'settings.json'), 'utf8'), '{"quota_mb":1}\n');
    // A single body over the quota is refused by nginx at once (413), once its graceful reload is done.
    let huge = 0;
    for (let i = 0; i < 20 && huge !== 413; i++) {
      huge = (await dav('PUT', '/huge.bin', ALICE, {}, 'y'.repeat(1024 * 1024 + 1))).status;
      if (huge !== 413) await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(huge, 413);
    await dav('DELETE', '/huge.bin', ALICE);
    // 1.5 MiB in two files: under the cap per body (1 MiB), over the quota together.
    const half = 'x'.repeat(768 * 1024);
    assert.equal((await dav('PUT', '/big-1.bin', ALICE, {}, half)).status, 201);
    assert.equal((await dav('PUT', '/big-2.bin', ALICE, {}, half)).status, 201);
    // The background scan (every 10 s) marks alice over her quota.
    let refused = 0;
    for (let i = 0; i < 30 && refused !== 507; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      refused = (await dav('PUT', '/more.txt', ALICE, {}, 'more\n')).status;
    }
    assert.equal(refused, 507);
    const put = await dav('PUT', '/more.txt', ALICE, {}, 'more\n');
    assert.equal(put.status, 507);
    assert.match(put.body, /Over quota/);
    assert.equal((await dav('MKCOL', '/newdir/', ALICE)).status, 507);
    assert.equal((await dav('COPY', '/big-1.bin', ALICE, { destination: '/big-3.bin' })).status, 507);
    // Reads, moves and deletes go on.
    assert.equal((await dav('GET', '/big-1.bin', ALICE)).status, 200);
    const moved = await dav('MOVE', '/big-2.bin', ALICE, { destination: '/big-2b.bin' });
    assert.ok([201, 204].includes(moved.status), `MOVE: ${moved.status}`);
    // Without alice's password: never a write (507 or 401, see nginx.conf).
    assert.ok((await dav('PUT', '/x.txt', 'alice:wrong', {}, 'x')).status >= 400);
    assert.ok(!readdirSync(join(svc.hostDir, 'users', 'alice')).includes('x.txt'));
    assert.equal((await dav('DELETE', '/big-2b.bin', ALICE)).status, 204);
    // The next scan lets her write again.
    assert.equal((await svc.exec(['/usr/local/bin/pic-files-quota', 'once'])).exitCode, 0);
    let ok = 507;
    for (let i = 0; i < 10 && ok === 507; i++) {
      // 201, or 204 when an earlier try (before the scan marked her) made it already.
      ok = (await dav('PUT', '/more.txt', ALICE, {}, 'more\n')).status;
      if (ok === 507) await new Promise((r) => setTimeout(r, 300));
    }
    assert.ok([201, 204].includes(ok), `PUT after deleting: ${ok}`);
    assert.equal((await dav('DELETE', '/big-1.bin', ALICE)).status, 204);
    // Other accounts were never limited by alice's usage.
    assert.equal((await svc.exec(['/usr/local/bin/pic-files-settings'], '{"quota_mb": null}')).exitCode, 0);
  });

  test('idle memory is within the goal (20 MB)', async (t) => {
    const mib = await svc.memoryMiB();
    t.diagnostic(`files idle memory: ${mib.toFixed(1)} MiB`);
    assert.ok(mib <= 20, `${mib.toFixed(1)} MiB`);
  });
});
