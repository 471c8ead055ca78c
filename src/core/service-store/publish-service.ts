// `pic store publish` for service authors (the spec's "Build a Store Service"): a service folder
// (manifest.json and a Dockerfile) becomes what a cell installs in `enforce` mode — each built image
// pushed to a registry, pinned by the digest the registry serves, signed in cosign's layout, and the
// manifest (its images rewritten to `ref: <registry>/<repo>@sha256:<digest>`) written into an index of
// the format `store_index_url` reads.
//
// Everything that can be checked is checked before anything is built: the manifest against the schema
// and the policy exactly as a cell checks an index entry (mergeIndex, with placeholder digests), the
// signing key, and the registry (reachable, our credentials accepted). After the push, the digest
// Docker reports must be the one the registry serves under the tag, and the signed image must verify
// against the key's public half as a cell would verify it.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import { type DigestImageRef, parseImageRef } from '../../schema/image-ref.ts';
import { parseServiceManifest, type ServiceManifest } from '../../schema/service-manifest.ts';
import { type ImageRegistry, RegistryError } from '../ports/image-registry.ts';
import type { CatalogService } from '../ports/service-store.ts';
import { CosignFormatError, signPayload, trustedKeys } from './cosign.ts';
import { verifyImage } from './image-verification.ts';
import type { HeldPort } from './manifest-policy.ts';
import { signImage } from './sign-image.ts';
import { MAX_INDEX_SERVICES, mergeIndex } from './store-catalog.ts';

/** Builds and pushes images on a container engine (drivers/docker/image-publisher.ts). */
export interface ImagePublisherPort {
  /** Builds `context` (with its Dockerfile) into the image `tag`; returns the image ID. */
  build(context: string, tag: string): Promise<string>;
  /** Pushes `tag` to its registry; returns the manifest digest the engine reports. */
  push(tag: string): Promise<string>;
}

export type PublishStep = 'manifest' | 'index' | 'key' | 'registry' | 'build' | 'push' | 'sign';

export class PublishError extends Error {
  override name = 'PublishError';
  readonly step: PublishStep;
  constructor(step: PublishStep, message: string) {
    super(message);
    this.step = step;
  }
}

export interface PublishTarget {
  /** host[:port], as image references name it. */
  registry: string;
  /** Repository path under which the service's images go (may be empty). */
  namespace: string;
}

export interface PublishInput {
  /** The service folder (absolute): `image.build` paths are relative to it. */
  dir: string;
  /** manifest.json, parsed JSON (untrusted until checked). */
  manifest: unknown;
  target: PublishTarget;
  privateKeyPem: string;
  /** The index file's current content (parsed JSON), or undefined to start a new index. */
  index?: unknown;
}

export interface PublishDeps {
  publisher: ImagePublisherPort;
  registry: ImageRegistry;
  /** The built-in catalog: an index entry may not take a built-in id (a cell keeps the built-in). */
  builtin: readonly CatalogService[];
  /** The ports a cell's core holds (a service may not ask for them). */
  heldPorts: readonly HeldPort[];
  log: (line: string) => void;
}

export interface PublishedImage {
  container: string;
  /** host/repo@sha256:… */
  ref: string;
  /** The `.sig` tag pushed. */
  signatureTag: string;
}

export interface PublishResult {
  manifest: ServiceManifest;
  images: PublishedImage[];
  /** The whole index to write: `{services: [...]}` with this service added or replaced. */
  index: { services: unknown[] };
  /** sha256 of the public key the signatures verify with (what /api/store/keys will show as id). */
  keyId: string;
}

/** A placeholder digest for the checks made before anything exists. */
const PLACEHOLDER = `sha256:${'0'.repeat(64)}`;

/** A manifest version as an image tag: Docker's tag alphabet, `+build` metadata turned into `-`. */
export function versionTag(version: string): string {
  const t = version.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[.-]+/, '');
  return (t || 'latest').slice(0, 128);
}

/** `host[:port][/path]` (no scheme, no tag, no digest) as a registry and a namespace. */
export function parsePublishTarget(text: string): PublishTarget | string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text))
    return 'give the registry as HOST[:PORT][/PATH], without a scheme (loopback registries are reached over http, all others over https)';
  const trimmed = text.replace(/\/+$/, '');
  const slash = trimmed.indexOf('/');
  const registry = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const namespace = slash < 0 ? '' : trimmed.slice(slash + 1);
  const probe = parseImageRef(`${registry}/${namespace ? `${namespace}/` : ''}x:x`);
  if (!probe.ok || probe.ref.registry !== registry)
    return `${text} is not a registry HOST[:PORT][/PATH] (the host needs a dot, a port or to be localhost; lowercase paths)`;
  return { registry, namespace };
}

function repositoryFor(target: PublishTarget, id: string, container: string, several: boolean): string {
  const name = several ? `${id}/${container}` : id;
  return target.namespace ? `${target.namespace}/${name}` : name;
}

function withRefs(m: ServiceManifest, refs: ReadonlyMap<string, string>): ServiceManifest {
  return {
    ...m,
    containers: m.containers.map((c) => (refs.has(c.name) ? { ...c, image: { ref: refs.get(c.name)! } } : c)),
  };
}

/** The index with `entry` replacing the entry of the same id, or appended. */
function updatedIndex(existing: unknown, entry: ServiceManifest): { services: unknown[] } {
  if (existing === undefined) return { services: [entry] };
  const list = (existing as { services?: unknown } | null)?.services;
  if (typeof existing !== 'object' || existing === null || Array.isArray(existing) || !Array.isArray(list))
    throw new PublishError('index', 'the index file is not an object with a "services" list');
  const services = list.map((s) =>
    (s as { id?: unknown } | null)?.id === entry.id ? entry : (s as unknown),
  );
  if (!list.some((s) => (s as { id?: unknown } | null)?.id === entry.id)) services.push(entry);
  if (services.length > MAX_INDEX_SERVICES)
    throw new PublishError('index', `the index would list more than ${MAX_INDEX_SERVICES} services`);
  return { ...(existing as Record<string, unknown>), services };
}

/** The cell's own check of an index entry; throws naming every problem. */
function checkAsIndexEntry(entry: ServiceManifest, deps: PublishDeps, step: PublishStep): void {
  const merged = mergeIndex(deps.builtin, { services: [entry] }, deps.heldPorts);
  if (merged.services.some((s) => s.manifest.id === entry.id)) return;
  throw new PublishError(
    step,
    `a cell would refuse this service: ${merged.problems.map((p) => p.message).join('; ') || 'refused'}`,
  );
}

function registryFailure(step: PublishStep, err: unknown, what: string): PublishError {
  if (err instanceof RegistryError) return new PublishError(step, `${what}: ${err.message}`);
  return err instanceof PublishError ? err : new PublishError(step, `${what}: ${(err as Error).message}`);
}

export async function publishService(input: PublishInput, deps: PublishDeps): Promise<PublishResult> {
  // 1. The manifest, as a cell will see it, before anything is built.
  const parsed = parseServiceManifest(input.manifest);
  if (!parsed.ok)
    throw new PublishError(
      'manifest',
      `manifest.json is not a valid service manifest: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
    );
  const manifest = parsed.manifest;
  const built = manifest.containers.filter((c) => 'build' in c.image);
  if (built.length === 0)
    throw new PublishError('manifest', 'no container has image.build: there is nothing to build and publish');
  const tag = versionTag(manifest.version);
  const several = built.length > 1;
  const plan = built.map((c) => {
    const repository = repositoryFor(input.target, manifest.id, c.name, several);
    const text = `${input.target.registry}/${repository}:${tag}`;
    const p = parseImageRef(text);
    if (!p.ok) throw new PublishError('manifest', `the image name ${text} ${p.reason}`);
    return {
      container: c.name,
      context: join(input.dir, (c.image as { build: string }).build),
      repository,
      tagged: text,
    };
  });
  const placeholders = new Map(
    plan.map((p) => [p.container, `${input.target.registry}/${p.repository}@${PLACEHOLDER}`]),
  );
  checkAsIndexEntry(withRefs(manifest, placeholders), deps, 'manifest');
  updatedIndex(input.index, manifest); // the index file must be usable before we build

  // 2. The key: an ECDSA P-256 private key, and its public half to verify what we push.
  let keyId: string;
  let publicPem: string;
  try {
    signPayload(Buffer.from('pic store publish: key check'), input.privateKeyPem);
    publicPem = createPublicKey(createPrivateKey(input.privateKeyPem))
      .export({ type: 'spki', format: 'pem' })
      .toString();
    keyId = trustedKeys([publicPem])[0]!.id;
  } catch (err) {
    throw new PublishError(
      'key',
      err instanceof CosignFormatError ? err.message : 'the signing key is not a PEM private key',
    );
  }

  // 3. The registry answers and takes our credentials, before a long build.
  try {
    await deps.registry.ping?.(input.target.registry);
  } catch (err) {
    throw registryFailure('registry', err, `registry ${input.target.registry}`);
  }

  // 4. Build, push, pin, sign, verify: one image at a time.
  const refs = new Map<string, string>();
  const images: PublishedImage[] = [];
  for (const p of plan) {
    deps.log(`building ${p.tagged} from ${p.context}`);
    let imageId: string;
    try {
      imageId = await deps.publisher.build(p.context, p.tagged);
    } catch (err) {
      throw new PublishError('build', `building ${p.container}: ${(err as Error).message}`);
    }
    deps.log(`built ${imageId}; pushing ${p.tagged}`);
    let pushed: string;
    try {
      pushed = await deps.publisher.push(p.tagged);
    } catch (err) {
      throw new PublishError('push', `pushing ${p.tagged}: ${(err as Error).message}`);
    }
    const repo = { registry: input.target.registry, repository: p.repository };
    let served: string | undefined;
    try {
      served = (await deps.registry.manifestByTag(repo, tag))?.digest;
      if (served === pushed) await deps.registry.manifestByDigest(repo, pushed);
    } catch (err) {
      throw registryFailure('push', err, `reading ${p.tagged} back`);
    }
    if (served !== pushed)
      throw new PublishError(
        'push',
        `digest mismatch after the push: the engine pushed ${pushed}, the registry serves ${served ?? 'nothing'} under ${p.tagged}`,
      );
    const ref = `${input.target.registry}/${p.repository}@${pushed}`;
    const digestRef = parseImageRef(ref);
    if (!digestRef.ok || digestRef.ref.kind !== 'digest')
      throw new PublishError('push', `the engine reported an unusable digest (${pushed})`);
    deps.log(`pushed ${ref}; signing`);
    let sigTag: string;
    try {
      sigTag = (await signImage(digestRef.ref as DigestImageRef, input.privateKeyPem, deps.registry)).tag;
    } catch (err) {
      throw registryFailure('sign', err, `signing ${ref}`);
    }
    const check = await verifyImage({ source: 'registry', reference: ref }, 'enforce', {
      registry: deps.registry,
      keys: trustedKeys([publicPem]),
      recordedBuild: () => undefined,
      log: { warn: () => {} },
    });
    if (check.verdict !== 'verified')
      throw new PublishError(
        'sign',
        `the pushed signature does not verify: ${check.verdict === 'refused' ? `${check.failure.reason}: ${check.failure.message}` : check.verdict}`,
      );
    refs.set(p.container, ref);
    images.push({ container: p.container, ref, signatureTag: sigTag });
  }

  // 5. The manifest a cell installs, checked again with the real digests, into the index.
  const published = withRefs(manifest, refs);
  const reparsed = parseServiceManifest(published);
  if (!reparsed.ok) throw new PublishError('manifest', 'the rewritten manifest does not pass the schema');
  checkAsIndexEntry(reparsed.manifest, deps, 'index');
  return { manifest: reparsed.manifest, images, index: updatedIndex(input.index, reparsed.manifest), keyId };
}
