// WireGuard keys from node:crypto: X25519 key pairs and preshared keys, as the raw 32 bytes in standard
// base64 (what `wg genkey`, `wg pubkey` and `wg genpsk` print). No `wg` process, so no key ever
// appears in a process's arguments or pipes.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';

export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

const b64 = (b64url: string) => Buffer.from(b64url, 'base64url').toString('base64');

export function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const d = privateKey.export({ format: 'jwk' }).d;
  const x = publicKey.export({ format: 'jwk' }).x;
  if (!d || !x) throw new Error('x25519 key export failed');
  return { privateKey: b64(d), publicKey: b64(x) };
}

/** The public key of a base64 private key (as `wg pubkey` computes it). */
export function publicKeyOf(privateKey: string): string {
  const d = Buffer.from(privateKey, 'base64').toString('base64url');
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d, x: '' }, format: 'jwk' });
  const x = createPublicKey(key).export({ format: 'jwk' }).x;
  if (!x) throw new Error('x25519 public key export failed');
  return b64(x);
}

export function generatePresharedKey(): string {
  return randomBytes(32).toString('base64');
}
