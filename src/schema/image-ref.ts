// Container image references as the store accepts them: always with an explicit registry host, so
// an image never comes from a default registry by accident. A reference is either pinned by digest
// (`host[:port]/repo[/more]@sha256:<64 hex>`, what a store image must be) or a tag
// (`host[:port]/repo:tag`, parsed only so enforce mode can name what it refuses). The grammar is an
// allow-list (Docker's distribution/reference, narrowed): no whitespace, NUL, newline or uppercase
// path can pass, so a parsed reference is safe to put in a URL path or a log line.
import { z } from 'zod';

export interface DigestImageRef {
  kind: 'digest';
  /** host or host:port, lowercase. */
  registry: string;
  /** path components joined by '/'. */
  repository: string;
  /** sha256:<64 lowercase hex> */
  digest: string;
}

export interface TagImageRef {
  kind: 'tag';
  registry: string;
  repository: string;
  tag: string;
}

export type ImageRef = DigestImageRef | TagImageRef;

export type ImageRefParse = { ok: true; ref: ImageRef } | { ok: false; reason: string };

const MAX_REF = 512;
const MAX_REPOSITORY = 255;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** A path component: lowercase alphanumerics separated by '.', '_', '__' or runs of '-'. */
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export const sha256Digest = z.string().regex(DIGEST, 'must be sha256: followed by 64 lowercase hex digits');

export function isSha256Digest(text: string): boolean {
  return DIGEST.test(text);
}

function validHost(registry: string): boolean {
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(registry);
  if (!m) return false;
  const [, host = '', port] = m;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535 || port.startsWith('0'))) return false;
  // Like Docker, the first component is a registry only if it looks like one: a dot, a port, or
  // localhost. Otherwise `library/nginx@…` would silently name a path on some default registry.
  if (!host.includes('.') && port === undefined && host !== 'localhost') return false;
  return host.length <= 253 && host.split('.').every((label) => HOST_LABEL.test(label));
}

export function parseImageRef(text: string): ImageRefParse {
  if (typeof text !== 'string' || text.length === 0) return { ok: false, reason: 'is empty' };
  if (text.length > MAX_REF) return { ok: false, reason: `is longer than ${MAX_REF} characters` };
  // Printable ASCII without space only: no whitespace, NUL, newline or lookalike characters.
  if (!/^[\x21-\x7e]+$/.test(text)) return { ok: false, reason: 'holds whitespace or non-ASCII characters' };
  const slash = text.indexOf('/');
  if (slash < 0) return { ok: false, reason: 'has no registry host (host/repository@sha256:…)' };
  const registry = text.slice(0, slash);
  if (!validHost(registry))
    return { ok: false, reason: 'does not start with a registry host such as registry.example.org' };
  let rest = text.slice(slash + 1);
  let digest: string | undefined;
  let tag: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest))
      return { ok: false, reason: 'has a digest that is not sha256:<64 lowercase hex>' };
  }
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return { ok: false, reason: 'has an invalid tag' };
  }
  // `repo:tag@digest` is refused: which of the two would run is a question the owner should not meet.
  if (digest !== undefined && tag !== undefined) return { ok: false, reason: 'has both a tag and a digest' };
  if (digest === undefined && tag === undefined)
    return { ok: false, reason: 'has neither a digest nor a tag (an implicit :latest is not accepted)' };
  if (rest.length === 0 || rest.length > MAX_REPOSITORY || !rest.split('/').every((c) => COMPONENT.test(c)))
    return { ok: false, reason: 'has an invalid repository path (lowercase a-z, 0-9, separators . _ -)' };
  const base = { registry, repository: rest };
  return digest !== undefined
    ? { ok: true, ref: { kind: 'digest', ...base, digest } }
    : { ok: true, ref: { kind: 'tag', ...base, tag: tag as string } };
}

export function formatImageRef(ref: ImageRef): string {
  const name = `${ref.registry}/${ref.repository}`;
  return ref.kind === 'digest' ? `${name}@${ref.digest}` : `${name}:${ref.tag}`;
}

/** A reference pinned by digest, for manifests and API bodies: tags and anything malformed fail. */
export const digestImageRef = z.string().transform((text, ctx): DigestImageRef => {
  const parsed = parseImageRef(text);
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: `image reference ${parsed.reason}` });
    return z.NEVER;
  }
  if (parsed.ref.kind !== 'digest') {
    ctx.addIssue({
      code: 'custom',
      message: 'image must be pinned by digest (host/repo@sha256:…), not a tag',
    });
    return z.NEVER;
  }
  return parsed.ref;
});
