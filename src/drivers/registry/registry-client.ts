// The ImageRegistry port over the OCI distribution API v2, on node's fetch. A registry is a party we
// do not trust: every answer is read up to a size limit and within a time limit, digests are checked
// against the bytes received, and a redirect is followed only on the same origin (scheme, host and
// port), a few times at most, so nothing we send is ever carried to another host. The cell sends no
// credentials (anonymous pulls); `pic store publish` may give a username and password, sent as HTTP
// Basic to the registry's own origin only (the redirect rule above keeps them there) and never put in
// a message. Plain http is used only for loopback registries (tests, a registry on this host); every
// other host is https, so a password never crosses a network in the clear.
import { createHash } from 'node:crypto';
import {
  type FetchedManifest,
  type ImageRegistry,
  RegistryError,
  type RepositoryRef,
} from '../../core/ports/image-registry.ts';
import { formatImageRef, parseImageRef } from '../../schema/image-ref.ts';
import { BodyTooLarge, readCappedBytes } from '../http/read-capped.ts';

export interface RegistryClientOptions {
  /** Per operation, redirects and body included. */
  timeoutMs?: number;
  maxManifestBytes?: number;
  maxRedirects?: number;
  /** HTTP Basic credentials for the registry (publishing); none by default. */
  credentials?: RegistryCredentials;
}

export interface RegistryCredentials {
  username: string;
  password: string;
}

/** What a manifest GET accepts: OCI and Docker v2 images and indexes. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function isLoopback(host: string): boolean {
  return host === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The registry's origin; the reference grammar (schema/image-ref.ts) has already vetted the host. */
export function registryOrigin(registry: string): string {
  const host = registry.replace(/:\d+$/, '');
  return `${isLoopback(host) ? 'http' : 'https'}://${registry}`;
}

/** Re-checks names with the reference grammar, so nothing odd can reach a URL path. */
function repoPath(repo: RepositoryRef, ref: { digest: string } | { tag: string }): string {
  const { registry, repository } = repo; // only these two: a wider object must not leak a `kind`
  const text =
    'digest' in ref
      ? formatImageRef({ kind: 'digest', registry, repository, digest: ref.digest })
      : formatImageRef({ kind: 'tag', registry, repository, tag: ref.tag });
  const p = parseImageRef(text);
  if (!p.ok || p.ref.registry !== repo.registry || p.ref.repository !== repo.repository)
    throw new RegistryError('bad_status', `refused a malformed image name (${p.ok ? 'mismatch' : p.reason})`);
  return `/v2/${repo.repository}`;
}

function failure(err: unknown): RegistryError {
  if (err instanceof RegistryError) return err;
  if (err instanceof BodyTooLarge) return new RegistryError('too_large', 'the registry answer is too large');
  const e = err as { name?: string; cause?: { code?: unknown } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError')
    return new RegistryError('timeout', 'the registry did not answer in time');
  const code =
    typeof e.cause?.code === 'string' && /^[A-Z_0-9]{2,40}$/.test(e.cause.code) ? ` (${e.cause.code})` : '';
  return new RegistryError('unreachable', `the registry is unreachable${code}`);
}

export function registryClient(opts: RegistryClientOptions = {}): ImageRegistry {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const maxManifest = opts.maxManifestBytes ?? 4 * 1024 * 1024;
  const maxRedirects = opts.maxRedirects ?? 3;
  const auth: Record<string, string> = opts.credentials
    ? {
        authorization: `Basic ${Buffer.from(`${opts.credentials.username}:${opts.credentials.password}`).toString('base64')}`,
      }
    : {};

  /** 401/403: the registry wants (other) credentials. Names the scheme it asked for, never ours. */
  function refused(res: Response): RegistryError | undefined {
    if (res.status !== 401 && res.status !== 403) return undefined;
    const scheme = /^\s*(\w+)/.exec(res.headers.get('www-authenticate') ?? '')?.[1]?.toLowerCase();
    if (res.status === 401 && scheme === 'bearer')
      return new RegistryError(
        'auth_refused',
        'the registry asks for token (Bearer) authentication, which is not supported; use a registry with HTTP Basic authentication',
      );
    return new RegistryError(
      'auth_refused',
      opts.credentials
        ? `the registry refused the credentials (HTTP ${res.status})`
        : `the registry requires credentials (HTTP ${res.status})`,
    );
  }

  /** A GET that follows same-origin redirects only, then reads the body up to `max` bytes. */
  async function get(
    url: URL,
    headers: Record<string, string>,
    max: number,
  ): Promise<{ status: number; bytes: Buffer; type: string }> {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      let current = url;
      for (let hop = 0; ; hop++) {
        const res = await fetch(current, { headers: { ...headers, ...auth }, redirect: 'manual', signal });
        if (res.status >= 300 && res.status < 400) {
          await res.body?.cancel();
          const location = res.headers.get('location');
          const next = location ? new URL(location, current) : undefined;
          if (!next || next.origin !== url.origin)
            throw new RegistryError(
              'redirect_refused',
              'the registry redirected to another host; not followed',
            );
          if (hop >= maxRedirects) throw new RegistryError('redirect_refused', 'too many redirects');
          current = next;
          continue;
        }
        if (res.status !== 200) {
          await res.body?.cancel();
          const denied = refused(res);
          if (denied) throw denied;
          return { status: res.status, bytes: Buffer.alloc(0), type: '' };
        }
        const bytes = await readCappedBytes(res, max, 'throw');
        return { status: 200, bytes, type: (res.headers.get('content-type') ?? '').split(';')[0]!.trim() };
      }
    } catch (err) {
      throw failure(err);
    }
  }

  /** A POST/PUT/HEAD: never follows a redirect (a body must not be replayed elsewhere). */
  async function send(url: URL, init: RequestInit): Promise<Response> {
    try {
      const res = await fetch(url, {
        ...init,
        headers: { ...(init.headers as Record<string, string> | undefined), ...auth },
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.body?.cancel();
      const denied = refused(res);
      if (denied) throw denied;
      return res;
    } catch (err) {
      throw failure(err);
    }
  }

  const urlOf = (repo: RepositoryRef, rest: string) => new URL(`${registryOrigin(repo.registry)}${rest}`);

  const manifest = (repo: RepositoryRef, reference: string, path: string) =>
    get(urlOf(repo, `${path}/manifests/${reference}`), { accept: MANIFEST_ACCEPT }, maxManifest);

  function expectStatus(res: Response, want: number, what: string): void {
    if (res.status !== want) throw new RegistryError('bad_status', `${what} answered HTTP ${res.status}`);
  }

  return {
    async ping(registry) {
      const p = parseImageRef(`${registry}/ping:ping`);
      if (!p.ok || p.ref.registry !== registry)
        throw new RegistryError('bad_status', 'refused a malformed registry name');
      const r = await get(new URL(`${registryOrigin(registry)}/v2/`), {}, 64 * 1024);
      if (r.status !== 200)
        throw new RegistryError('bad_status', `the registry's /v2/ answered HTTP ${r.status}`);
    },

    async manifestByDigest(repo, digest): Promise<FetchedManifest> {
      const r = await manifest(repo, digest, repoPath(repo, { digest }));
      if (r.status === 404)
        throw new RegistryError('not_found', 'the registry has no manifest with this digest');
      if (r.status !== 200) throw new RegistryError('bad_status', `the manifest answered HTTP ${r.status}`);
      if (sha256(r.bytes) !== digest)
        throw new RegistryError('digest_mismatch', 'the manifest bytes do not match the requested digest');
      return { bytes: r.bytes, digest, mediaType: r.type };
    },

    async manifestByTag(repo, tag) {
      const r = await manifest(repo, tag, repoPath(repo, { tag }));
      if (r.status === 404) return undefined;
      if (r.status !== 200) throw new RegistryError('bad_status', `the manifest answered HTTP ${r.status}`);
      return { bytes: r.bytes, digest: sha256(r.bytes), mediaType: r.type };
    },

    async blob(repo, digest, maxBytes) {
      const path = repoPath(repo, { digest });
      const r = await get(urlOf(repo, `${path}/blobs/${digest}`), {}, maxBytes);
      if (r.status === 404) throw new RegistryError('not_found', 'the registry has no blob with this digest');
      if (r.status !== 200) throw new RegistryError('bad_status', `the blob answered HTTP ${r.status}`);
      if (sha256(r.bytes) !== digest)
        throw new RegistryError('digest_mismatch', 'the blob bytes do not match the requested digest');
      return r.bytes;
    },

    async pushBlob(repo, bytes) {
      const digest = sha256(bytes);
      const path = repoPath(repo, { digest });
      const head = await send(urlOf(repo, `${path}/blobs/${digest}`), { method: 'HEAD' });
      if (head.status === 200) return digest; // already there: blobs are content-addressed
      const start = await send(urlOf(repo, `${path}/blobs/uploads/`), { method: 'POST' });
      expectStatus(start, 202, 'starting the upload');
      const location = start.headers.get('location');
      const upload = location ? new URL(location, urlOf(repo, '/')) : undefined;
      if (!upload || upload.origin !== urlOf(repo, '/').origin)
        throw new RegistryError('redirect_refused', 'the upload location is on another host; not used');
      upload.searchParams.set('digest', digest);
      const put = await send(upload, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body: new Uint8Array(bytes),
      });
      expectStatus(put, 201, 'the blob upload');
      return digest;
    },

    async pushManifest(repo, tag, bytes, mediaType) {
      if (bytes.byteLength > maxManifest) throw new RegistryError('too_large', 'the manifest is too large');
      const path = repoPath(repo, { tag });
      const res = await send(urlOf(repo, `${path}/manifests/${tag}`), {
        method: 'PUT',
        headers: { 'content-type': mediaType },
        body: new Uint8Array(bytes),
      });
      expectStatus(res, 201, 'the manifest upload');
      const digest = sha256(bytes);
      const said = res.headers.get('docker-content-digest');
      if (said && said !== digest)
        throw new RegistryError('digest_mismatch', 'the registry stored the manifest under another digest');
      return digest;
    },
  };
}
