// A remote store service end to end on the real Docker engine, nothing off this machine: a tiny image
// (the local debian:bookworm-slim) pushed to Debian's docker-registry on loopback, signed in cosign's
// layout, offered by an index on a loopback HTTP server. Without a trusted key the install is 422;
// once the owner adds the key through the API it is pulled by digest, runs and is uninstalled.
// Everything carries a unique prefix and goes afterwards.
// Root ring: it hands the composition a real engine driver and the registry kit.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { authed, completeSetup, type Kit, type Login, makeKit } from './api/test-kit.ts';
import { signImage } from './core/service-store/sign-image.ts';
import { DockerEngine } from './drivers/docker/engine.ts';
import { engineSkipReason } from './drivers/docker/engine-skip-kit.ts';
import { dockerServiceEngine } from './drivers/docker/service-engine.ts';
import { registryClient } from './drivers/registry/registry-client.ts';
import { type LoopbackRegistry, startRegistry } from './drivers/registry/registry-kit.ts';
import { parseImageRef } from './schema/image-ref.ts';

const engine = new DockerEngine();
const skip = await engineSkipReason(engine);

const prefix = `pic-rx${randomBytes(3).toString('hex')}-`;
const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const pub = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const priv = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

function follow(stream: NodeJS.ReadableStream): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) =>
    engine.docker.modem.followProgress(stream, (err: Error | null, out: Array<Record<string, unknown>>) =>
      err ? reject(err) : resolve(out),
    ),
  );
}

describe('a remote, signed store service on Docker', { skip }, () => {
  let reg: LoopbackRegistry;
  let index: Server;
  let kit: Kit;
  let admin: Login;
  let ref: string;
  let repo: string | undefined;

  const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    kit.app.inject({ method, url, headers: authed(admin), ...(payload ? { payload } : {}) });

  async function settle(id: string, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const item = (await call('GET', `/api/services/catalog/${id}`)).json();
      if (item.job && ['done', 'failed'].includes(item.job.phase)) return item;
      assert.ok(Date.now() < deadline, `job still running: ${JSON.stringify(item.job)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  before(async () => {
    reg = await startRegistry();
    repo = `${reg.registry}/${prefix}tiny`;
    await engine.docker.getImage('debian:bookworm-slim').tag({ repo, tag: '1' });
    // Docker wants an X-Registry-Auth header on a push, even an empty one (the registry is anonymous).
    const push = engine.docker
      .getImage(`${repo}:1`)
      .push({ authconfig: {} } as Parameters<
        ReturnType<typeof engine.docker.getImage>['push']
      >[0]) as Promise<NodeJS.ReadableStream>;
    const out = await follow(await push);
    const digest = out
      .map((e) => (e.aux as { Digest?: string } | undefined)?.Digest)
      .find((d) => typeof d === 'string');
    assert.ok(digest, `no digest in the push output: ${JSON.stringify(out.slice(-3))}`);
    ref = `${repo}@${digest}`;
    // Forget the local names, so that the install must pull it by digest.
    await engine.docker.getImage(`${repo}:1`).remove();
    await engine.docker
      .getImage(ref)
      .remove()
      .catch(() => undefined);
    const parsed = parseImageRef(ref);
    assert.ok(parsed.ok && parsed.ref.kind === 'digest');
    await signImage(parsed.ref, priv, registryClient());

    const manifest = {
      schema_version: 1,
      id: 'tiny',
      name: 'Tiny',
      description: 'A remote test service',
      version: '1.0.0',
      kind: 'app',
      containers: [
        {
          name: 'main',
          image: { ref },
          user: '65534:65534',
          command: ['sleep', 'infinity'],
          read_only: true,
        },
      ],
    };
    index = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ services: [manifest] }));
    });
    await new Promise<void>((r) => index.listen(0, '127.0.0.1', r));
    const cellDir = mkdtempSync(join(tmpdir(), 'pic-remote-'));
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
    const url = `http://127.0.0.1:${(index.address() as AddressInfo).port}/index.json`;
    assert.equal((await call('PUT', '/api/config', { store_index_url: url })).statusCode, 200);
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
    // The tag too, in case the push failed before it was forgotten.
    if (repo)
      await engine.docker
        .getImage(`${repo}:1`)
        .remove()
        .catch(() => undefined);
    if (ref)
      await engine.docker
        .getImage(ref)
        .remove()
        .catch(() => undefined);
    await kit?.close();
    index?.closeAllConnections();
    await new Promise((r) => (index ? index.close(r) : r(undefined)));
    await reg?.stop();
  });

  test('refused without the key (422), installed by digest once the owner trusts it, then uninstalled', async () => {
    const catalog = (await call('GET', '/api/services/catalog')).json();
    assert.equal(
      catalog.services.find((s: { id: string }) => s.id === 'tiny')?.source,
      'index',
      JSON.stringify(catalog),
    );

    const refused = await call('POST', '/api/services/catalog/tiny/install');
    assert.equal(refused.statusCode, 422, refused.body);
    assert.equal(refused.json().error, 'image_unverified');
    assert.equal(await engine.imageId(ref), undefined, 'nothing was pulled');

    assert.equal((await call('POST', '/api/store/keys', { pem: pub })).statusCode, 201);
    const res = await call('POST', '/api/services/catalog/tiny/install');
    assert.equal(res.statusCode, 202, res.body);
    const item = await settle('tiny');
    assert.equal(item.job.phase, 'done', JSON.stringify(item));
    assert.equal(item.state, 'running');
    const c = await engine.docker.getContainer(`${prefix}cell-tiny_main`).inspect();
    assert.equal(c.Config.Image, ref, 'it runs the digest that was verified');
    assert.equal(c.State.Running, true);
    assert.ok(await engine.imageId(ref), 'pulled by digest');

    assert.equal((await call('POST', '/api/services/catalog/tiny/uninstall')).statusCode, 202);
    const gone = await settle('tiny');
    assert.equal(gone.job.phase, 'done', JSON.stringify(gone));
    await assert.rejects(engine.docker.getContainer(`${prefix}cell-tiny_main`).inspect());
  });
});
