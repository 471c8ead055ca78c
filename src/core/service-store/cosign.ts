// cosign's key-based signature layout, verified (and produced) with node:crypto alone, offline:
// the signatures of image `repo@sha256:X` live in the same repository under the tag `sha256-X.sig`,
// an OCI manifest whose layers are "simple signing" payloads. Each layer's annotation
// `dev.cosignproject.cosign/signature` holds a base64 ECDSA P-256 / SHA-256 DER signature over the
// exact payload bytes, and the payload names the image's manifest digest. No Rekor, no Fulcio: the
// trust is the set of public keys (the bundled one and the owner's), nothing fetched.
import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import type { DigestImageRef } from '../../schema/image-ref.ts';

export const SIMPLESIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const OCI_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_CONFIG_MEDIA_TYPE = 'application/vnd.oci.image.config.v1+json';
export const SIGNATURE_TYPE = 'cosign container image signature';
/** A payload is ~300 bytes; anything near this is not one. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
/** Signatures accumulate as layers (one per signing); more than this is abuse, not history. */
export const MAX_SIGNATURE_LAYERS = 32;

export interface TrustedKey {
  /** sha256 of the key's SubjectPublicKeyInfo, hex: names the key in results without printing it. */
  id: string;
  key: KeyObject;
}

export interface SignatureLayer {
  digest: string;
  size: number;
  /** base64, as found in the annotation. */
  signature: string;
}

export type SignatureCheck =
  | { ok: true; keyId: string }
  | {
      ok: false;
      reason: 'payload_digest_mismatch' | 'bad_signature' | 'malformed_payload' | 'wrong_image';
      message: string;
    };

export class CosignFormatError extends Error {
  override name = 'CosignFormatError';
}

export function sha256Of(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** `sha256:abc…` → `sha256-abc….sig`, cosign's signature tag. */
export function signatureTag(digest: string): string {
  return `${digest.replace(':', '-')}.sig`;
}

/** Public keys in PEM (SPKI); only ECDSA P-256 is accepted, the one cosign's key pairs use. */
export function trustedKeys(pems: readonly string[]): TrustedKey[] {
  return pems.map((pem, i) => {
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch {
      throw new CosignFormatError(`public key ${i + 1} is not a PEM public key`);
    }
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
      throw new CosignFormatError(`public key ${i + 1} is not an ECDSA P-256 key`);
    const spki = key.export({ type: 'spki', format: 'der' });
    return { id: createHash('sha256').update(spki).digest('hex'), key };
  });
}

/** The simple-signing payload cosign writes for an image, byte for byte in its key order. */
export function simpleSigningPayload(ref: DigestImageRef): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': `${ref.registry}/${ref.repository}` },
        image: { 'docker-manifest-digest': ref.digest },
        type: SIGNATURE_TYPE,
      },
      optional: null,
    }),
  );
}

export function signPayload(payload: Buffer, privateKeyPem: string): string {
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new CosignFormatError('the signing key is not an ECDSA P-256 private key');
  return sign('sha256', payload, { key, dsaEncoding: 'der' }).toString('base64');
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The simple-signing layers of a `.sig` manifest; other layers are ignored, malformed ones refused. */
export function signatureLayers(manifestBytes: Buffer): SignatureLayer[] {
  let doc: unknown;
  try {
    doc = JSON.parse(manifestBytes.toString('utf8'));
  } catch {
    throw new CosignFormatError('the signature manifest is not JSON');
  }
  if (!isObject(doc) || !Array.isArray(doc.layers))
    throw new CosignFormatError('the signature manifest has no layers');
  if (doc.layers.length > MAX_SIGNATURE_LAYERS)
    throw new CosignFormatError(`the signature manifest has more than ${MAX_SIGNATURE_LAYERS} layers`);
  const out: SignatureLayer[] = [];
  for (const l of doc.layers) {
    if (!isObject(l) || l.mediaType !== SIMPLESIGNING_MEDIA_TYPE) continue;
    const sig = isObject(l.annotations) ? l.annotations[SIGNATURE_ANNOTATION] : undefined;
    if (
      typeof l.digest !== 'string' ||
      !/^sha256:[a-f0-9]{64}$/.test(l.digest) ||
      typeof l.size !== 'number' ||
      !Number.isSafeInteger(l.size) ||
      l.size < 0 ||
      typeof sig !== 'string' ||
      !/^[A-Za-z0-9+/]{8,256}={0,2}$/.test(sig)
    )
      throw new CosignFormatError('a signature layer lacks a sha256 digest, a size or a base64 signature');
    out.push({ digest: l.digest, size: l.size, signature: sig });
  }
  return out;
}

/**
 * One signature layer against its payload: the payload must be the blob the layer names, signed by
 * one of the keys, and must name `imageDigest`. The signature is checked before the JSON is read,
 * so nothing an untrusted party wrote is interpreted unless a trusted key vouches for it.
 */
export function checkSignature(
  layer: SignatureLayer,
  payload: Buffer,
  imageDigest: string,
  keys: readonly TrustedKey[],
): SignatureCheck {
  if (payload.byteLength !== layer.size || sha256Of(payload) !== layer.digest)
    return {
      ok: false,
      reason: 'payload_digest_mismatch',
      message: 'the signature payload does not match its layer digest',
    };
  const signature = Buffer.from(layer.signature, 'base64');
  const signer = keys.find((k) => {
    try {
      return verify('sha256', payload, { key: k.key, dsaEncoding: 'der' }, signature);
    } catch {
      return false; // a malformed DER signature is just a signature that does not verify
    }
  });
  if (!signer)
    return { ok: false, reason: 'bad_signature', message: 'no trusted key verifies the signature' };
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed_payload', message: 'the signed payload is not JSON' };
  }
  const critical = isObject(doc) && isObject(doc.critical) ? doc.critical : undefined;
  const image = critical && isObject(critical.image) ? critical.image : undefined;
  if (!critical || critical.type !== SIGNATURE_TYPE || !image)
    return {
      ok: false,
      reason: 'malformed_payload',
      message: 'the signed payload is not a cosign signature',
    };
  // docker-reference is not compared: cosign does not either, and a mirror of the same bytes under
  // another name is the same image. The digest is what pins the content.
  if (image['docker-manifest-digest'] !== imageDigest)
    return { ok: false, reason: 'wrong_image', message: 'the signature is for another image digest' };
  return { ok: true, keyId: signer.id };
}

/** The config blob cosign writes beside its signature layers (content is informational only). */
export function signatureConfig(payloadDigests: readonly string[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: [{ created: '0001-01-01T00:00:00Z' }],
      os: '',
      rootfs: { type: 'layers', diff_ids: payloadDigests },
      config: {},
    }),
  );
}

/** The `.sig` manifest: the config and one simple-signing layer per signature. */
export function signatureManifest(config: Buffer, layers: readonly SignatureLayer[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      config: { mediaType: OCI_CONFIG_MEDIA_TYPE, size: config.byteLength, digest: sha256Of(config) },
      layers: layers.map((l) => ({
        mediaType: SIMPLESIGNING_MEDIA_TYPE,
        size: l.size,
        digest: l.digest,
        annotations: { [SIGNATURE_ANNOTATION]: l.signature },
      })),
    }),
  );
}
