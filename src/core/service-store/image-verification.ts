// May this image run? The store's answer (DESIGN decision 7, ADR 0007). An image runs only if
// (a) this host built it from the repository's Dockerfiles and it is pinned by the image ID recorded
// at build, or (b) it is referenced by digest, the registry serves bytes with that digest, and its
// cosign `.sig` carries a signature by a trusted key over a payload naming that digest.
// Modes (config `image_verification`): enforce refuses a failure, warn logs it and proceeds, off
// checks nothing. The result says what was checked and, on failure, why.

import { formatImageRef, isSha256Digest, parseImageRef } from '../../schema/image-ref.ts';
import { AppError } from '../errors.ts';
import { type ImageRegistry, RegistryError, type RepositoryRef } from '../ports/image-registry.ts';
import {
  CosignFormatError,
  checkSignature,
  MAX_PAYLOAD_BYTES,
  type SignatureCheck,
  type SignatureLayer,
  signatureLayers,
  signatureTag,
  type TrustedKey,
} from './cosign.ts';

export type VerificationMode = 'enforce' | 'warn' | 'off';

export type ImageCandidate =
  /** Built on this host: `name` as recorded at build, run by its image ID. */
  | { source: 'local-build'; name: string; imageId: string }
  /** From a registry: the reference text as the manifest gives it. */
  | { source: 'registry'; reference: string };

export type VerificationFailureReason =
  | 'invalid_reference'
  | 'not_digest_pinned'
  | 'not_built_here'
  | 'image_id_mismatch'
  | 'no_trusted_keys'
  | 'manifest_digest_mismatch'
  | 'registry_error'
  | 'unsigned'
  | 'malformed_signature'
  | 'payload_too_large'
  | SignatureFailure;

type SignatureFailure = Extract<SignatureCheck, { ok: false }>['reason'];

export interface VerificationFailure {
  reason: VerificationFailureReason;
  message: string;
}

export type Checked = { checked: 'local-build'; imageId: string } | { checked: 'signature'; keyId: string };

export type VerificationResult =
  | ({ verdict: 'verified'; image: string } & Checked)
  | { verdict: 'skipped'; image: string }
  | { verdict: 'warned'; image: string; failure: VerificationFailure }
  | { verdict: 'refused'; image: string; failure: VerificationFailure };

/** pino's Logger fits; only a warning is ever written. */
export interface VerificationLog {
  warn(fields: Record<string, unknown>, msg: string): void;
}

export interface VerificationDeps {
  registry: ImageRegistry;
  keys: readonly TrustedKey[];
  /** The image ID this host recorded when it built `name` from the repository's Dockerfiles. */
  recordedBuild: (name: string) => string | undefined;
  log: VerificationLog;
}

/** Thrown by assertMayRun: the API answers 422 with the reason in the message. */
export class ImageUnverifiedError extends AppError {
  readonly failure: VerificationFailure;
  constructor(image: string, failure: VerificationFailure) {
    super('image_unverified', `image ${image} is not verified: ${failure.message}`);
    this.failure = failure;
  }
}

type Outcome = { ok: true; checked: Checked } | { ok: false; failure: VerificationFailure };

const fail = (reason: VerificationFailureReason, message: string): Outcome => ({
  ok: false,
  failure: { reason, message },
});

function checkLocalBuild(c: { name: string; imageId: string }, deps: VerificationDeps): Outcome {
  const recorded = deps.recordedBuild(c.name);
  if (recorded === undefined) return fail('not_built_here', 'this host has no record of building it');
  if (!isSha256Digest(c.imageId) || recorded !== c.imageId)
    return fail('image_id_mismatch', 'its image ID is not the one recorded when this host built it');
  return { ok: true, checked: { checked: 'local-build', imageId: recorded } };
}

function registryFailure(err: unknown, what: string): Outcome {
  if (err instanceof RegistryError)
    return err.kind === 'digest_mismatch' && what === 'manifest'
      ? fail('manifest_digest_mismatch', 'the registry served a manifest whose bytes do not match the digest')
      : fail('registry_error', `fetching the ${what}: ${err.message}`);
  throw err;
}

async function checkLayer(
  repo: RepositoryRef,
  layer: SignatureLayer,
  digest: string,
  deps: VerificationDeps,
): Promise<Outcome> {
  if (layer.size > MAX_PAYLOAD_BYTES) return fail('payload_too_large', 'a signature payload is too large');
  let payload: Buffer;
  try {
    payload = await deps.registry.blob(repo, layer.digest, MAX_PAYLOAD_BYTES);
  } catch (err) {
    if (err instanceof RegistryError && err.kind === 'digest_mismatch')
      return fail('payload_digest_mismatch', 'the registry served a payload that does not match its digest');
    return registryFailure(err, 'signature payload');
  }
  const c = checkSignature(layer, payload, digest, deps.keys);
  return c.ok ? { ok: true, checked: { checked: 'signature', keyId: c.keyId } } : fail(c.reason, c.message);
}

async function checkSigned(reference: string, deps: VerificationDeps): Promise<Outcome> {
  const parsed = parseImageRef(reference);
  if (!parsed.ok) return fail('invalid_reference', `the reference ${parsed.reason}`);
  if (parsed.ref.kind !== 'digest')
    return fail('not_digest_pinned', 'it is referenced by tag; a store image must be pinned by digest');
  if (deps.keys.length === 0) return fail('no_trusted_keys', 'no trusted public key is configured');
  const { registry, repository, digest } = parsed.ref;
  const repo: RepositoryRef = { registry, repository };
  try {
    // The registry must serve bytes with this digest: the signature pins a digest, not a name.
    await deps.registry.manifestByDigest(repo, digest);
  } catch (err) {
    return registryFailure(err, 'manifest');
  }
  let layers: SignatureLayer[];
  try {
    const sig = await deps.registry.manifestByTag(repo, signatureTag(digest));
    if (!sig) return fail('unsigned', 'it has no cosign signature (.sig tag)');
    layers = signatureLayers(sig.bytes);
  } catch (err) {
    if (err instanceof CosignFormatError) return fail('malformed_signature', err.message);
    return registryFailure(err, 'signature manifest');
  }
  if (layers.length === 0) return fail('unsigned', 'its .sig manifest holds no signature');
  let first: Outcome | undefined;
  for (const layer of layers) {
    const o = await checkLayer(repo, layer, digest, deps);
    if (o.ok) return o;
    first ??= o;
  }
  return first as Outcome;
}

/** The image's name for results and logs: a parsed reference is safe to print; raw text may not be. */
function displayName(c: ImageCandidate): string {
  if (c.source === 'local-build')
    return /^[a-z0-9][a-z0-9._/-]{0,254}$/.test(c.name) ? c.name : '(invalid name)';
  const p = parseImageRef(c.reference);
  return p.ok ? formatImageRef(p.ref) : '(invalid reference)';
}

export async function verifyImage(
  candidate: ImageCandidate,
  mode: VerificationMode,
  deps: VerificationDeps,
): Promise<VerificationResult> {
  const image = displayName(candidate);
  if (mode === 'off') return { verdict: 'skipped', image };
  const o =
    candidate.source === 'local-build'
      ? checkLocalBuild(candidate, deps)
      : await checkSigned(candidate.reference, deps);
  if (o.ok) return { verdict: 'verified', image, ...o.checked };
  deps.log.warn(
    { image, reason: o.failure.reason, mode },
    mode === 'warn'
      ? `image verification failed, proceeding (image_verification: warn): ${o.failure.message}`
      : `image verification failed, refused: ${o.failure.message}`,
  );
  return { verdict: mode === 'warn' ? 'warned' : 'refused', image, failure: o.failure };
}

/** For the install flow: throws ImageUnverifiedError (422) when the result refuses the image. */
export function assertMayRun(result: VerificationResult): void {
  if (result.verdict === 'refused') throw new ImageUnverifiedError(result.image, result.failure);
}
