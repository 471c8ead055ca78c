// The store's trusted signing keys (ADR 0007): the public keys a signed store image may be signed by.
// Bundled keys ship in images/store/keys/*.pub; the owner adds more through the API.
import { z } from 'zod';

/** A PEM public key is ~180 bytes for P-256; anything near this is not one. */
export const STORE_KEY_PEM_MAX = 4096;

/** `{pem}`: an ECDSA P-256 public key (SPKI, `-----BEGIN PUBLIC KEY-----`); checked further by the use-case. */
export const addStoreKeyBodySchema = z
  .object({
    pem: z
      .string()
      .max(STORE_KEY_PEM_MAX)
      .regex(/^\s*-----BEGIN PUBLIC KEY-----[A-Za-z0-9+/=\s]+-----END PUBLIC KEY-----\s*$/, {
        message: 'must be a PEM public key (-----BEGIN PUBLIC KEY-----)',
      }),
  })
  .strict();

/** A key's id: the sha256 of its SubjectPublicKeyInfo (DER), hex. */
export const storeKeyId = z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be 64 lowercase hex digits' });
export const storeKeyParams = z.object({ id: storeKeyId }).strict();

export const storeKeySchema = z.object({
  id: z.string(),
  pem: z.string(),
  /** When the owner added it; null for a bundled key. */
  added_at: z.string().nullable(),
  /** Shipped with PIC (images/store/keys/): it cannot be deleted. */
  bundled: z.boolean(),
});
export type StoreKey = z.infer<typeof storeKeySchema>;

export const storeKeysSchema = z.object({ keys: z.array(storeKeySchema) });
