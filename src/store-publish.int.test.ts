// `pic store publish` end to end on this machine, nothing off it: an author's service folder (a
// manifest and a Dockerfile FROM the local debian:bookworm-slim) built, pushed to Debian's
// docker-registry on loopback through the Docker engine, pinned by digest, signed and written into an
// index; then a cell (the API kit on the real engine, `enforce`) with the index served on loopback and
// the author's public key added installs it, pulled by the digest that was signed. The same index
// with the entry tampered (its image swapped for an unsigned one, or for a digest the registry does
// not have) is refused. Before anything is built, a manifest that fails the schema or the policy, an
// unreachable registry and refused credentials each fail clearly; credentials (from a file or the
// environment, behind a Basic-auth proxy) never show in the output.
// Root ring: it runs the CLI and hands the composition a real engine driver.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { authed, completeSetup, type Kit, type Login, makeKit } from './api/test-kit.ts';
import { freePort } from './drivers/acme/pebble-kit.ts';
import { DockerEngine } from './drivers/docker/engine.ts';
import { engineSkipReason } from './drivers/docker/engine-skip-kit.ts';
import { dockerServiceEngine } from './drivers/docker/service-engine.ts';
import { type LoopbackRegistry, startRegistry } from './drivers/registry/registry-kit.ts';

const ROOT = join(import.meta.dirname, '..');
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

const engine = new DockerEngine();
const skip = await engineSkipReason(engine);

const prefix = `pic-pub${randomBytes(3).toString('hex')}-`;
const SECRET = `s3cret-${randomBytes(6).toString('hex')}`;

function pic(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      NODE,
      [MAIN, ...args],
      { cwd: ROOT, timeout: 300_000, env: { ...process.env, ...env } },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

/** A Basic-auth gate in front of the registry (Debian's docker-registry wants bcrypt htpasswd files). */
function authProxy(upstream: string, user: string, pass: string): Promise<Server> {
  const expected = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  const [host, port] = upstream.split(':');
  const server = createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      req.resume();
      res.writeHead(401, {
        'www-authenticate': 'Basic realm="pic-test"',
        'content-type': 'application/json',
      });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    const up = request(
      { host, port: Number(port), method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

function manifest(id: string, extra: Record<string, unknown> = {}) {
  return {
    schema_version: 1,
    id,
    name: 'Published',
    description: 'A service published by pic store publish',
    version: '1.0.0',
    kind: 'app',
    containers: [
      {
        name: 'main',
        image: { build: '.' },
        user: '65534:65534',
        command: ['sleep', 'infinity'],
        read_only: true,
      },
    ],
    ...extra,
  };
}

function serviceFolder(dir: string, m: unknown, marker = 'published'): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 2));
  writeFileSync(join(dir, 'hello.txt'), `${marker}\n`);
  writeFileSync(join(dir, 'Dockerfile'), 'FROM debian:bookworm-slim\nCOPY hello.txt /hello.txt\n');
  return dir;
}

describe('pic store publish, then a cell installs what it published', { skip }, () => {
  let reg: LoopbackRegistry;
  let proxy: Server | undefined;
  let index: Server | undefined;
  let kit: Kit | undefined;
  let admin: Login;
  let dir: string;
  let key: string;
  let pub: string;
  let idx: string;
  let ref = '';
  /** What the loopback index server answers, per path. */
  const served: Record<string, string> = {};
  const images = new Set<string>();

  const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    (kit as Kit).app.inject({ method, url, headers: authed(admin), ...(payload ? { payload } : {}) });

  async function settle(id: string, timeoutMs = 90_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const item = (await call('GET', `/api/services/catalog/${id}`)).json();
      if (item.job && ['done', 'failed'].includes(item.job.phase)) return item;
      assert.ok(Date.now() < deadline, `job still running: ${JSON.stringify(item.job)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function forget(image: string) {
    await engine.docker
      .getImage(image)
      .remove({ force: true })
      .catch(() => undefined);
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pic-publish-'));
    reg = await startRegistry();
    const made = await pic(['store', 'keygen', '--out', join(dir, 'keys')]);
    assert.equal(made.code, 0, made.stderr);
    key = join(dir, 'keys', 'cosign.key');
    pub = readFileSync(join(dir, 'keys', 'cosign.pub'), 'utf8');
    idx = join(dir, 'index.json');
  });

  after(async () => {
    for (const c of await engine.docker.listContainers({ all: true, filters: { name: [prefix] } }))
      await engine.docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
    for (const n of await engine.docker.listNetworks({ filters: { name: [prefix] } }))
      await engine.docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined);
    for (const i of images) await forget(i);
    await kit?.close();
    for (const s of [index, proxy]) {
      s?.closeAllConnections();
      await new Promise((r) => (s ? s.close(r) : r(undefined)));
    }
    await reg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('refused before anything is built: a schema failure, a policy failure, a built-in id, an unreachable registry', async () => {
    const target = `${reg.registry}/authors`;
    const run = (folder: string, registry = target) =>
      pic(['store', 'publish', '--key', key, '--registry', registry, '--index', idx, folder]);
    const schema = await run(
      serviceFolder(join(dir, 'bad-schema'), { ...manifest('bad-schema'), id: 'Bad Id' }),
    );
    assert.equal(schema.code, 1, schema.stderr);
    assert.match(schema.stderr, /not a valid service manifest: id/);
    const policy = await run(
      serviceFolder(
        join(dir, 'bad-policy'),
        manifest('bad-policy', {
          host_ports: [{ proto: 'tcp', port: 443, container: 'main', container_port: 8443 }],
        }),
      ),
    );
    assert.equal(policy.code, 1, policy.stderr);
    assert.match(policy.stderr, /a cell would refuse this service: .*443/);
    const builtin = await run(serviceFolder(join(dir, 'calendar'), manifest('calendar')));
    assert.equal(builtin.code, 1);
    assert.match(builtin.stderr, /built-in service/);
    const nowhere = await run(
      serviceFolder(join(dir, 'nowhere'), manifest('nowhere')),
      `127.0.0.1:${await freePort()}/authors`,
    );
    assert.equal(nowhere.code, 1);
    assert.match(nowhere.stderr, /registry 127\.0\.0\.1:\d+: the registry is unreachable/);
    const scheme = await run(join(dir, 'nowhere'), `http://${reg.registry}/authors`);
    assert.equal(scheme.code, 2);
    assert.match(scheme.stderr, /without a scheme/);
    for (const r of [schema, policy, builtin, nowhere]) assert.doesNotMatch(r.stderr, /^building /m);
    // Nothing was built or pushed, and no index was written.
    for (const id of ['bad-policy', 'nowhere'])
      assert.equal(await engine.imageId(`${reg.registry}/authors/${id}:1.0.0`), undefined);
    assert.throws(() => readFileSync(idx));
  });

  test('publishes: built, pushed, pinned by digest, signed, verified, and written into the index', async () => {
    const folder = serviceFolder(join(dir, 'tiny-pub'), manifest('tiny-pub'));
    // An index with another service already in it: kept.
    writeFileSync(idx, JSON.stringify({ services: [{ id: 'other', note: 'kept as is' }] }));
    const r = await pic([
      'store',
      'publish',
      '--key',
      key,
      '--registry',
      `${reg.registry}/authors`,
      '--index',
      idx,
      folder,
    ]);
    const tagged = `${reg.registry}/authors/tiny-pub:1.0.0`;
    images.add(tagged);
    assert.equal(r.code, 0, r.stderr);
    const m = new RegExp(
      `^published: (${reg.registry}/authors/tiny-pub@sha256:[a-f0-9]{64}) \\(signed: sha256-[a-f0-9]{64}\\.sig\\)$`,
      'm',
    ).exec(r.stdout);
    assert.ok(m, r.stdout);
    ref = m[1]!;
    images.add(ref);
    const written = JSON.parse(readFileSync(idx, 'utf8'));
    assert.equal(written.services.length, 2);
    assert.deepEqual(written.services[0], { id: 'other', note: 'kept as is' });
    assert.equal(written.services[1].id, 'tiny-pub');
    assert.deepEqual(written.services[1].containers[0].image, { ref });
    assert.deepEqual(written.services[1].containers[0].command, ['sleep', 'infinity']);
    const verified = await pic(['store', 'verify', '--pub', join(dir, 'keys', 'cosign.pub'), ref]);
    assert.equal(verified.code, 0, verified.stderr);

    // Publishing again (same content) replaces the entry rather than adding one.
    const again = await pic([
      'store',
      'publish',
      '--key',
      key,
      '--registry',
      `${reg.registry}/authors`,
      '--index',
      idx,
      folder,
    ]);
    assert.equal(again.code, 0, again.stderr);
    const twice = JSON.parse(readFileSync(idx, 'utf8'));
    assert.equal(twice.services.length, 2);
    assert.equal(twice.services[1].containers[0].image.ref, ref, 'the same bytes, the same digest');
    written.services = twice.services.filter((s: { id: string }) => s.id === 'tiny-pub');
    served['/index.json'] = JSON.stringify(written);
    // Forget the local image: the cell must pull it by digest.
    await forget(tagged);
    await forget(ref);
    assert.equal(await engine.imageId(ref), undefined);
  });

  test('a cell in enforce mode with the index and the public key installs it by the signed digest', async () => {
    assert.ok(ref, 'published');
    index = createServer((req, res) => {
      const body = served[req.url ?? ''];
      res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
      res.end(body ?? '{}');
    });
    await new Promise<void>((r) => index?.listen(0, '127.0.0.1', r));
    const cellDir = mkdtempSync(join(tmpdir(), 'pic-publish-cell-'));
    kit = await makeKit(
      {},
      {
        store: {
          engine: dockerServiceEngine(engine),
          cellDir,
          env: { PIC_NAME_PREFIX: prefix },
          healthTimeoutMs: 30_000,
        },
      },
      cellDir,
    );
    admin = await completeSetup(kit);
    const base = `http://127.0.0.1:${(index.address() as AddressInfo).port}`;
    assert.equal(
      (await call('PUT', '/api/config', { store_index_url: `${base}/index.json` })).statusCode,
      200,
    );
    assert.equal((await call('POST', '/api/store/keys', { pem: pub })).statusCode, 201);
    const catalog = (await call('GET', '/api/services/catalog')).json();
    assert.equal(catalog.index.problems.length, 0, JSON.stringify(catalog.index));
    const res = await call('POST', '/api/services/catalog/tiny-pub/install');
    assert.equal(res.statusCode, 202, res.body);
    const item = await settle('tiny-pub');
    assert.equal(item.job.phase, 'done', JSON.stringify(item));
    assert.equal(item.state, 'running');
    const c = await engine.docker.getContainer(`${prefix}cell-tiny-pub_main`).inspect();
    assert.equal(c.Config.Image, ref, 'it runs the digest that was signed');
    assert.equal(c.State.Running, true);
    assert.equal((await call('POST', '/api/services/catalog/tiny-pub/uninstall')).statusCode, 202);
    assert.equal((await settle('tiny-pub')).job.phase, 'done');
  });

  test('the same index with the entry tampered is refused (422 image_unverified), nothing pulled', async () => {
    assert.ok(kit, 'the cell is up');
    // An unsigned image in the same registry: the author's folder with other content, pushed by hand.
    const other = `${reg.registry}/authors/tiny-pub:evil`;
    images.add(other);
    const folder = serviceFolder(join(dir, 'evil'), manifest('tiny-pub'), 'not what was signed');
    await new Promise<void>((resolve, reject) =>
      execFile(
        'docker',
        ['build', '-q', '-t', other, folder],
        { env: { ...process.env, DOCKER_BUILDKIT: '0' } },
        (e) => (e ? reject(e) : resolve()),
      ),
    );
    const stream = (await engine.docker
      .getImage(other)
      .push({ authconfig: {} } as Parameters<
        ReturnType<typeof engine.docker.getImage>['push']
      >[0])) as NodeJS.ReadableStream;
    const out = await new Promise<Array<Record<string, unknown>>>((resolve, reject) =>
      engine.docker.modem.followProgress(stream, (err: Error | null, o: Array<Record<string, unknown>>) =>
        err ? reject(err) : resolve(o),
      ),
    );
    const evilDigest = out.map((e) => (e.aux as { Digest?: string } | undefined)?.Digest).find(Boolean);
    assert.ok(evilDigest);
    const evilRef = `${reg.registry}/authors/tiny-pub@${evilDigest}`;
    images.add(evilRef);
    await forget(other);
    await forget(evilRef);

    const good = JSON.parse(served['/index.json']!);
    const tampered = [
      ['/swapped.json', evilRef],
      ['/absent.json', `${reg.registry}/authors/tiny-pub@sha256:${'5'.repeat(64)}`],
    ] as const;
    const base = `http://127.0.0.1:${((index as Server).address() as AddressInfo).port}`;
    for (const [path, swapped] of tampered) {
      const t = structuredClone(good);
      t.services[0].containers[0].image.ref = swapped;
      served[path] = JSON.stringify(t);
      assert.equal((await call('PUT', '/api/config', { store_index_url: `${base}${path}` })).statusCode, 200);
      const refused = await call('POST', '/api/services/catalog/tiny-pub/install');
      assert.equal(refused.statusCode, 422, `${path}: ${refused.body}`);
      assert.equal(refused.json().error, 'image_unverified');
      assert.equal(await engine.imageId(swapped), undefined, 'nothing was pulled');
    }
    await assert.rejects(engine.docker.getContainer(`${prefix}cell-tiny-pub_main`).inspect());
  });

  test('a registry behind HTTP Basic: refused without or with wrong credentials (before building), published with them; never printed', async () => {
    proxy = await authProxy(reg.registry, 'author', SECRET);
    const gate = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const folder = serviceFolder(join(dir, 'gated'), manifest('gated'));
    const args = [
      'store',
      'publish',
      '--key',
      key,
      '--registry',
      `${gate}/authors`,
      '--index',
      join(dir, 'gated.json'),
      folder,
    ];
    images.add(`${gate}/authors/gated:1.0.0`);

    const none = await pic(args);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /requires credentials \(HTTP 401\)/);
    const wrong = await pic(args, { PIC_REGISTRY_USERNAME: 'author', PIC_REGISTRY_PASSWORD: `${SECRET}x` });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /refused the credentials \(HTTP 401\)/);
    assert.doesNotMatch(wrong.stderr + wrong.stdout, new RegExp(SECRET));
    assert.equal(await engine.imageId(`${gate}/authors/gated:1.0.0`), undefined, 'not built');

    const authFile = join(dir, 'auth.json');
    writeFileSync(authFile, `password=${SECRET}`, { mode: 0o600 });
    const garbled = await pic([...args.slice(0, -1), '--auth-file', authFile, folder]);
    assert.equal(garbled.code, 1);
    assert.match(garbled.stderr, /is not JSON/);
    assert.doesNotMatch(garbled.stderr + garbled.stdout, new RegExp(SECRET));
    rmSync(authFile);
    writeFileSync(authFile, JSON.stringify({ username: 'author', password: SECRET }), { mode: 0o644 });
    const open = await pic([...args.slice(0, -1), '--auth-file', authFile, folder]);
    assert.equal(open.code, 1);
    assert.match(open.stderr, /readable by others/);
    chmodSync(authFile, 0o600);
    const ok = await pic([...args.slice(0, -1), '--auth-file', authFile, folder]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.doesNotMatch(ok.stderr + ok.stdout, new RegExp(SECRET));
    const ref2 = /^published: (\S+)/m.exec(ok.stdout)?.[1];
    assert.ok(ref2?.startsWith(`${gate}/authors/gated@sha256:`), ok.stdout);
    images.add(ref2 as string);
    const both = await pic([...args.slice(0, -1), '--auth-file', authFile, folder], {
      PIC_REGISTRY_USERNAME: 'author',
      PIC_REGISTRY_PASSWORD: SECRET,
    });
    assert.equal(both.code, 2);
  });
});
