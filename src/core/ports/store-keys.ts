// The public keys the owner trusts for store images, beside the bundled ones (store-keys-service.ts).

export interface StoreKeyRow {
  /** sha256 of the SubjectPublicKeyInfo (DER), hex. */
  id: string;
  /** The key as PEM (SPKI), normalised by the use-case. */
  pem: string;
  addedAt: string;
}

export interface StoreKeysRepository {
  list(): StoreKeyRow[];
  get(id: string): StoreKeyRow | undefined;
  add(row: StoreKeyRow): void;
  /** Whether a row went. */
  remove(id: string): boolean;
}
