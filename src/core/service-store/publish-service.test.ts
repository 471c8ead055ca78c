// publishService with an in-memory registry and engine: the order of the checks (everything that can
// fail does so before a build), the digest the registry serves compared with the one pushed, the
// signature verified before the index is written, and the index entry replaced or appended.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { type ImageRegistry, RegistryError } from '../ports/image-registry.ts';
import type { CatalogService } from '../ports/service-store.ts';
import {
  type ImagePublisherPort,
  type PublishDeps,
  PublishError,
  parsePublishTarget,
  publishService,
  versionTag,
} from './publish-service.ts';

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const priv = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

/** A registry in memory: manifests by repository and reference, blobs by digest. */
function memoryRegistry(): ImageRegistry & { manifests: Map<string, Buffer>; pinged: string[] } {
  const manifests = new Map<string, Buffer>();
  const blobs = new Map<string, Buffer>();
  const pinged: string[] = [];
  const key = (r: { registry: string; repository: string }, ref: string) =>
    `${r.registry}/${r.repository}|${ref}`;
  return {
    manifests,
    pinged,
    async ping(registry) {
      pinged.push(registry);
    },
    async manifestByDigest(repo, digest) {
      const b = manifests.get(key(repo, digest));
      if (!b) throw new RegistryError('not_found', 'the registry has no manifest with this digest');
      return { bytes: b, digest: sha(b), mediaType: 'application/vnd.oci.image.manifest.v1+json' };
    },
    async manifestByTag(repo, tag) {
      const b = manifests.get(key(repo, tag));
      return b && { bytes: b, digest: sha(b), mediaType: 'application/vnd.oci.image.manifest.v1+json' };
    },
    async blob(_repo, digest) {
      const b = blobs.get(digest);
      if (!b) throw new RegistryError('not_found', 'no blob');
      return b;
    },
    async pushBlob(_repo, bytes) {
      blobs.set(sha(bytes), bytes);
      return sha(bytes);
    },
    async pushManifest(repo, tag, bytes) {
      manifests.set(key(repo, tag), bytes);
      manifests.set(key(repo, sha(bytes)), bytes);
      return sha(bytes);
    },
  };
}

/** An engine whose push puts an image manifest in the registry, as Docker's would. */
function engine(reg: ReturnType<typeof memoryRegistry>, lie = false) {
  const calls: string[] = [];
  const publisher: ImagePublisherPort = {
    async build(context, tag) {
      calls.push(`build ${tag} ${context}`);
      return `sha256:${'a'.repeat(64)}`;
    },
    async push(tag) {
      calls.push(`push ${tag}`);
      const [, registry, repository, t] = /^([^/]+)\/(.+):([^:]+)$/.exec(tag)!;
      const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, tag, layers: [] }));
      const d = await reg.pushManifest({ registry: registry!, repository: repository! }, t!, bytes, '');
      return lie ? `sha256:${'b'.repeat(64)}` : d;
    },
  };
  return { publisher, calls };
}

const builtin: CatalogService[] = [{ manifest: { id: 'calendar' } as CatalogService['manifest'], dir: '' }];

function manifest(over: Record<string, unknown> = {}) {
  return {
    schema_version: 1,
    id: 'notes',
    name: 'Notes',
    description: 'Notes',
    version: '1.2.0+build.7',
    kind: 'app',
    containers: [{ name: 'main', image: { build: '.' }, user: '932:932' }],
    ...over,
  };
}

function setup(lie = false) {
  const reg = memoryRegistry();
  const e = engine(reg, lie);
  const deps: PublishDeps = {
    publisher: e.publisher,
    registry: reg,
    builtin,
    heldPorts: [{ proto: 'tcp', port: 443, holder: 'core (HTTPS)' }],
    log: () => {},
  };
  return { reg, calls: e.calls, deps };
}

const target = { registry: 'registry.example.org', namespace: 'me' };

test('publishes: built, pushed, pinned, signed; the index entry is appended, then replaced', async () => {
  const { calls, deps, reg } = setup();
  const r = await publishService(
    {
      dir: '/src/notes',
      manifest: manifest(),
      target,
      privateKeyPem: priv,
      index: { services: [{ id: 'x' }] },
    },
    deps,
  );
  assert.deepEqual(calls, [
    'build registry.example.org/me/notes:1.2.0-build.7 /src/notes',
    'push registry.example.org/me/notes:1.2.0-build.7',
  ]);
  assert.deepEqual(reg.pinged, ['registry.example.org']);
  assert.match(r.images[0]!.ref, /^registry\.example\.org\/me\/notes@sha256:[a-f0-9]{64}$/);
  assert.deepEqual(r.manifest.containers[0]!.image, { ref: r.images[0]!.ref });
  assert.deepEqual(
    r.index.services.map((s) => (s as { id: string }).id),
    ['x', 'notes'],
  );
  assert.match(r.keyId, /^[a-f0-9]{64}$/);
  const again = await publishService(
    { dir: '/src/notes', manifest: manifest(), target, privateKeyPem: priv, index: r.index },
    deps,
  );
  assert.deepEqual(
    again.index.services.map((s) => (s as { id: string }).id),
    ['x', 'notes'],
  );
});

test('several built containers go to a repository each; a container with image.ref is left as it is', async () => {
  const { calls, deps } = setup();
  const ref = `registry.example.org/other/db@sha256:${'c'.repeat(64)}`;
  const r = await publishService(
    {
      dir: '/src/notes',
      manifest: manifest({
        containers: [
          { name: 'web', image: { build: 'web' } },
          { name: 'worker', image: { build: '.' } },
          { name: 'db', image: { ref } },
        ],
      }),
      target,
      privateKeyPem: priv,
    },
    deps,
  );
  assert.deepEqual(
    calls.filter((c) => c.startsWith('build')),
    [
      'build registry.example.org/me/notes/web:1.2.0-build.7 /src/notes/web',
      'build registry.example.org/me/notes/worker:1.2.0-build.7 /src/notes',
    ],
  );
  assert.deepEqual(r.manifest.containers[2]!.image, { ref });
});

test('everything that can fail before the build does: schema, policy, built-in id, index file, key, registry', async () => {
  const cases: [string, Record<string, unknown>, RegExp, string][] = [
    ['schema', { manifest: manifest({ privileged: true }) }, /not a valid service manifest/, 'manifest'],
    [
      'policy',
      {
        manifest: manifest({
          host_ports: [{ proto: 'tcp', port: 443, container: 'main', container_port: 8443 }],
        }),
      },
      /a cell would refuse this service: refused by the policy: .*443/,
      'manifest',
    ],
    ['built-in', { manifest: manifest({ id: 'calendar' }) }, /built-in service/, 'manifest'],
    [
      'nothing to build',
      {
        manifest: manifest({
          containers: [{ name: 'main', image: { ref: `a.b/c@sha256:${'d'.repeat(64)}` } }],
        }),
      },
      /nothing to build/,
      'manifest',
    ],
    ['index', { index: [] }, /not an object with a "services" list/, 'index'],
    [
      'rsa key',
      {
        privateKeyPem: generateKeyPairSync('rsa', { modulusLength: 2048 })
          .privateKey.export({ type: 'pkcs8', format: 'pem' })
          .toString(),
      },
      /not an ECDSA P-256/,
      'key',
    ],
    ['not a key', { privateKeyPem: 'nope' }, /not a PEM private key/, 'key'],
  ];
  for (const [name, over, message, step] of cases) {
    const { calls, deps } = setup();
    await assert.rejects(
      publishService({ dir: '/s', manifest: manifest(), target, privateKeyPem: priv, ...over }, deps),
      (e: unknown) => e instanceof PublishError && e.step === step && message.test(e.message),
      name,
    );
    assert.deepEqual(calls, [], `${name}: nothing built`);
  }
  const { calls, deps, reg } = setup();
  reg.ping = async () => {
    throw new RegistryError('auth_refused', 'the registry refused the credentials (HTTP 401)');
  };
  await assert.rejects(
    publishService({ dir: '/s', manifest: manifest(), target, privateKeyPem: priv }, deps),
    /registry registry\.example\.org: the registry refused the credentials/,
  );
  assert.deepEqual(calls, []);
});

test('a digest the registry does not serve under the tag is a mismatch; nothing is signed or indexed', async () => {
  const { deps, reg } = setup(true);
  await assert.rejects(
    publishService({ dir: '/s', manifest: manifest(), target, privateKeyPem: priv }, deps),
    (e: unknown) =>
      e instanceof PublishError &&
      e.step === 'push' &&
      /digest mismatch after the push: the engine pushed sha256:b{64}, the registry serves sha256:[a-f0-9]{64}/.test(
        e.message,
      ),
  );
  assert.ok(![...reg.manifests.keys()].some((k) => k.includes('.sig')), 'not signed');
});

test('a signature that does not verify afterwards fails the publish', async () => {
  const { deps, reg } = setup();
  const push = reg.pushManifest;
  // A registry that drops the .sig manifest it is given.
  reg.pushManifest = async (repo, tag, bytes, mt) =>
    tag.endsWith('.sig') ? sha(bytes) : push(repo, tag, bytes, mt);
  await assert.rejects(
    publishService({ dir: '/s', manifest: manifest(), target, privateKeyPem: priv }, deps),
    /the pushed signature does not verify: unsigned/,
  );
});

test('registry targets and version tags', () => {
  assert.deepEqual(parsePublishTarget('localhost:5000'), { registry: 'localhost:5000', namespace: '' });
  assert.deepEqual(parsePublishTarget('127.0.0.1:5000/a/b/'), {
    registry: '127.0.0.1:5000',
    namespace: 'a/b',
  });
  assert.deepEqual(parsePublishTarget('ghcr.io/me'), { registry: 'ghcr.io', namespace: 'me' });
  for (const bad of ['https://ghcr.io/me', 'me/notes', 'ghcr.io/Me', 'ghcr.io/me notes', 'ghcr.io/me\nx'])
    assert.equal(typeof parsePublishTarget(bad), 'string', bad);
  assert.equal(versionTag('1.0.0'), '1.0.0');
  assert.equal(versionTag('1.0.0+git.abc'), '1.0.0-git.abc');
  assert.equal(versionTag('-x'), 'x');
});
