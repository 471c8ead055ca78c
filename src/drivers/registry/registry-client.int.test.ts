// The registry driver against Debian's docker-registry on loopback (what it fetches is what was
// pushed, byte for byte), and against a lying fake registry: a digest that does not match the bytes,
// a redirect to another host, an oversized manifest, a registry too slow to answer.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { RegistryError } from '../../core/ports/image-registry.ts';
import { registryClient, registryOrigin } from './registry-client.ts';
import { type LoopbackRegistry, pushImage, sha256, startRegistry } from './registry-kit.ts';

let reg: LoopbackRegistry;
const servers: Server[] = [];

before(async () => {
  reg = await startRegistry();
});
after(async () => {
  await reg?.stop();
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

/** A fake registry on 127.0.0.1 answering with `handler`; returns its host:port. */
async function fake(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(s.address() as AddressInfo).port}`;
}

const rejectsWith = (p: Promise<unknown>, kind: RegistryError['kind']) =>
  assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof RegistryError, String(e));
    assert.equal(e.kind, kind, e.message);
    return true;
  });

test('plain http only for loopback registries', () => {
  assert.equal(registryOrigin('127.0.0.1:5000'), 'http://127.0.0.1:5000');
  assert.equal(registryOrigin('localhost'), 'http://localhost');
  assert.equal(registryOrigin('registry.example.org'), 'https://registry.example.org');
  assert.equal(registryOrigin('127.0.0.1.example.org:5000'), 'https://127.0.0.1.example.org:5000');
});

test('a manifest by digest and by tag, and a blob, come back as pushed; a missing tag is undefined', async () => {
  const repo = { registry: reg.registry, repository: 'pic/driver' };
  const digest = await pushImage(reg.registry, repo.repository, 'v1');
  const c = registryClient();
  const byDigest = await c.manifestByDigest(repo, digest);
  assert.equal(byDigest.digest, digest);
  assert.equal(sha256(byDigest.bytes), digest);
  assert.equal(byDigest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  const byTag = await c.manifestByTag(repo, 'v1');
  assert.equal(byTag?.digest, digest);
  assert.equal(await c.manifestByTag(repo, 'nope'), undefined);
  const layerDigest = JSON.parse(byDigest.bytes.toString()).layers[0].digest;
  const layer = await c.blob(repo, layerDigest, 1024);
  assert.equal(layer.toString(), 'not really a tarball: x');
  await rejectsWith(c.blob(repo, layerDigest, 5), 'too_large');
  await rejectsWith(c.manifestByDigest(repo, `sha256:${'0'.repeat(64)}`), 'not_found');
});

test('pushes a blob and a manifest that read back identical', async () => {
  const repo = { registry: reg.registry, repository: 'pic/pushed' };
  const c = registryClient();
  const config = Buffer.from('{}');
  const cd = await c.pushBlob(repo, config);
  assert.equal(await c.pushBlob(repo, config), cd, 'a second push of the same blob is a no-op');
  const m = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: 2, digest: cd },
      layers: [],
    }),
  );
  const md = await c.pushManifest(repo, 'latest', m, 'application/vnd.oci.image.manifest.v1+json');
  assert.deepEqual((await c.manifestByDigest(repo, md)).bytes, m);
});

test('a registry serving bytes that do not match the digest is caught (manifest and blob)', async () => {
  const host = await fake((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
    res.end('{"schemaVersion":2,"layers":[]}');
  });
  const repo = { registry: host, repository: 'pic/liar' };
  const d = `sha256:${'1'.repeat(64)}`;
  await rejectsWith(registryClient().manifestByDigest(repo, d), 'digest_mismatch');
  await rejectsWith(registryClient().blob(repo, d, 1024), 'digest_mismatch');
});

test('a redirect to another host is not followed; a same-origin one is, a bounded number of times', async () => {
  let reached = false;
  const other = await fake((_req, res) => {
    reached = true;
    res.end('{}');
  });
  const body = Buffer.from('same origin');
  const host = await fake((req, res) => {
    if (req.url?.includes('/elsewhere'))
      res.writeHead(307, { location: `http://${other}/v2/x/blobs/y` }).end();
    else if (req.url?.includes('/loop')) res.writeHead(302, { location: req.url }).end();
    else if (req.url?.includes('/blobs/sha256')) res.writeHead(307, { location: '/final' }).end();
    else res.end(body);
  });
  const c = registryClient();
  const repo = (repository: string) => ({ registry: host, repository });
  assert.deepEqual(await c.blob(repo('pic/ok'), sha256(body), 1024), body);
  await rejectsWith(c.blob(repo('pic/elsewhere'), sha256(body), 1024), 'redirect_refused');
  await rejectsWith(c.manifestByTag(repo('pic/loop'), 'v1'), 'redirect_refused');
  assert.equal(reached, false, 'the other host was never contacted');
});

test('an oversized manifest is refused, announced or streamed', async () => {
  const big = Buffer.alloc(4096, 'a');
  const host = await fake((req, res) => {
    if (req.url?.includes('announced')) res.writeHead(200, { 'content-length': String(big.length) });
    else res.writeHead(200, { 'transfer-encoding': 'chunked' });
    res.end(big);
  });
  const c = registryClient({ maxManifestBytes: 1024 });
  await rejectsWith(c.manifestByTag({ registry: host, repository: 'pic/announced' }, 'v1'), 'too_large');
  await rejectsWith(c.manifestByTag({ registry: host, repository: 'pic/streamed' }, 'v1'), 'too_large');
});

test('a slow registry times out, headers or body', async () => {
  const host = await fake((req, res) => {
    if (req.url?.includes('trickle')) {
      res.writeHead(200);
      res.write('{');
    }
    // never ends: the client must give up on its own
  });
  const c = registryClient({ timeoutMs: 200 });
  await rejectsWith(c.manifestByTag({ registry: host, repository: 'pic/silent' }, 'v1'), 'timeout');
  await rejectsWith(c.manifestByTag({ registry: host, repository: 'pic/trickle' }, 'v1'), 'timeout');
});

test('an unreachable registry and malformed names fail cleanly', async () => {
  const c = registryClient({ timeoutMs: 2_000 });
  await rejectsWith(c.manifestByTag({ registry: '127.0.0.1:1', repository: 'pic/x' }, 'v1'), 'unreachable');
  await rejectsWith(c.manifestByTag({ registry: reg.registry, repository: '../x' }, 'v1'), 'bad_status');
  await rejectsWith(c.manifestByTag({ registry: reg.registry, repository: 'pic/x' }, 'v1\n'), 'bad_status');
});

test('credentials: Basic on every request to the registry, a refusal says so without echoing them; Bearer is named', async () => {
  const seen: (string | undefined)[] = [];
  const host = await fake((req, res) => {
    seen.push(req.headers.authorization);
    if (req.headers.authorization !== `Basic ${Buffer.from('me:pa55word').toString('base64')}`)
      res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end();
    else if (req.url === '/v2/') res.end('{}');
    else if (req.method === 'HEAD') res.writeHead(404).end();
    else if (req.method === 'POST') res.writeHead(202, { location: '/v2/pic/a/blobs/uploads/1' }).end();
    else if (req.method === 'PUT') res.writeHead(201).end();
    else res.writeHead(404).end();
  });
  const ok = registryClient({ credentials: { username: 'me', password: 'pa55word' } });
  await ok.ping?.(host);
  await ok.pushBlob({ registry: host, repository: 'pic/a' }, Buffer.from('x'));
  assert.equal(seen.length, 4); // ping, HEAD, POST, PUT
  assert.ok(seen.every((a) => a?.startsWith('Basic ')));
  const anonymous = registryClient();
  await assert.rejects(anonymous.ping?.(host) ?? Promise.resolve(), /requires credentials \(HTTP 401\)/);
  const wrong = registryClient({ credentials: { username: 'me', password: 'wrong-secret' } });
  await rejectsWith(wrong.ping?.(host) ?? Promise.resolve(), 'auth_refused');
  await assert.rejects(
    wrong.pushBlob({ registry: host, repository: 'pic/a' }, Buffer.from('x')),
    (e: Error) => {
      assert.match(e.message, /refused the credentials/);
      assert.doesNotMatch(e.message, /wrong-secret|me:/);
      return true;
    },
  );
  const bearer = await fake((_req, res) =>
    res.writeHead(401, { 'www-authenticate': 'Bearer realm="https://auth.example.org/token"' }).end(),
  );
  await assert.rejects(ok.ping?.(bearer) ?? Promise.resolve(), /token \(Bearer\) authentication/);
  await rejectsWith(ok.ping?.('not a host') ?? Promise.resolve(), 'bad_status');
});
