// Signing for service authors (`pic store sign`): what cosign's key-based `cosign sign` does, through
// the registry port. The image must already be in the registry with bytes matching its digest (one
// cannot sign what is not there). Signatures already under the `.sig` tag are kept and ours appended,
// as cosign does, so a second signer (or a key rotation) does not erase the first.

import type { DigestImageRef } from '../../schema/image-ref.ts';
import type { ImageRegistry } from '../ports/image-registry.ts';
import {
  CosignFormatError,
  MAX_SIGNATURE_LAYERS,
  OCI_MANIFEST_MEDIA_TYPE,
  type SignatureLayer,
  sha256Of,
  signatureConfig,
  signatureLayers,
  signatureManifest,
  signatureTag,
  signPayload,
  simpleSigningPayload,
} from './cosign.ts';

export interface SignedImage {
  /** The tag the signature lives under: sha256-<hex>.sig */
  tag: string;
  /** The digest of the new `.sig` manifest. */
  manifestDigest: string;
  /** How many signatures the `.sig` now holds (ours included). */
  signatures: number;
}

export async function signImage(
  ref: DigestImageRef,
  privateKeyPem: string,
  registry: ImageRegistry,
): Promise<SignedImage> {
  const repo = { registry: ref.registry, repository: ref.repository };
  await registry.manifestByDigest(repo, ref.digest);
  const payload = simpleSigningPayload(ref);
  const ours: SignatureLayer = {
    digest: sha256Of(payload),
    size: payload.byteLength,
    signature: signPayload(payload, privateKeyPem),
  };
  const tag = signatureTag(ref.digest);
  const existing = await registry.manifestByTag(repo, tag);
  const kept = existing ? signatureLayers(existing.bytes) : [];
  const layers = [...kept, ours];
  if (layers.length > MAX_SIGNATURE_LAYERS)
    throw new CosignFormatError(`the image already has ${kept.length} signatures; not adding more`);
  await registry.pushBlob(repo, payload);
  const config = signatureConfig(layers.map((l) => l.digest));
  await registry.pushBlob(repo, config);
  const manifestDigest = await registry.pushManifest(
    repo,
    tag,
    signatureManifest(config, layers),
    OCI_MANIFEST_MEDIA_TYPE,
  );
  return { tag, manifestDigest, signatures: layers.length };
}
