// An OCI distribution (v2) registry, as the store needs it: manifests and blobs fetched by digest and
// checked against that digest by the driver, the cosign signature tag, and pushes for `pic store sign`.
// Every answer is size- and time-bounded and a redirect never leads to another host; failures are a
// RegistryError whose kind says which rule broke, so verification can report why.

/** Where an image lives: `registry` is host[:port], `repository` the path (see schema/image-ref.ts). */
export interface RepositoryRef {
  registry: string;
  repository: string;
}

export interface FetchedManifest {
  /** The exact bytes served: signatures and digests are over these, never a re-serialisation. */
  bytes: Buffer;
  /** sha256 of the bytes (equal to the requested digest when fetched by digest). */
  digest: string;
  mediaType: string;
}

export type RegistryErrorKind =
  | 'not_found'
  | 'digest_mismatch'
  | 'too_large'
  | 'timeout'
  | 'redirect_refused'
  | 'bad_status'
  | 'unreachable'
  | 'auth_refused';

export class RegistryError extends Error {
  override name = 'RegistryError';
  readonly kind: RegistryErrorKind;
  constructor(kind: RegistryErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

export interface ImageRegistry {
  /** The manifest by digest; its bytes must hash to `digest` or it fails with digest_mismatch. */
  manifestByDigest(repo: RepositoryRef, digest: string): Promise<FetchedManifest>;
  /** The manifest a tag names now (the cosign `.sig` tag); undefined when the tag does not exist. */
  manifestByTag(repo: RepositoryRef, tag: string): Promise<FetchedManifest | undefined>;
  /** A blob by digest, refused above maxBytes; its bytes must hash to `digest`. */
  blob(repo: RepositoryRef, digest: string, maxBytes: number): Promise<Buffer>;
  /** Uploads a blob (monolithic POST then PUT) and returns its digest. */
  pushBlob(repo: RepositoryRef, bytes: Buffer): Promise<string>;
  /** Puts a manifest under a tag and returns its digest. */
  pushManifest(repo: RepositoryRef, tag: string, bytes: Buffer, mediaType: string): Promise<string>;
  /**
   * `GET /v2/` on a registry (host[:port]): resolves when it answers as a registry and accepts our
   * credentials (or needs none); fails unreachable, auth_refused or bad_status otherwise.
   */
  ping?(registry: string): Promise<void>;
}
