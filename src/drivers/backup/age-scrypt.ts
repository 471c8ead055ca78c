// age's scrypt recipient type (age spec, "The scrypt recipient type"), as age-encryption Recipient and
// Identity objects: the stanza `-> scrypt <base64(salt)> <logN>`, its body the 16-byte file key sealed
// with ChaCha20-Poly1305 under scrypt(passphrase, "age-encryption.org/v1/scrypt" || salt, N = 2^logN,
// r = 8, p = 1) and a nonce of 12 zero bytes. age-encryption parses and writes the header; only the
// key derivation is elsewhere: in a short-lived child process (scrypt-child.ts), so its 256 MiB (work
// factor 18) never count in the API's memory.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { type Identity, type Recipient, Stanza } from 'age-encryption';
import { ageScryptKey } from './scrypt-child.ts';

/** age-encryption refuses more (2^20 is 1 GiB and seconds of scrypt); so does this (and the child). */
export const MAX_LOG_N = 20;
const ZERO_NONCE = new Uint8Array(12);
const TAG = 16;

/** The stanza's body: the file key's ciphertext and its tag. */
function sealFileKey(key: Uint8Array, fileKey: Uint8Array): Buffer {
  const c = createCipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: TAG });
  const body = c.update(fileKey);
  c.final();
  return Buffer.concat([body, c.getAuthTag()]);
}

/** The file key, or null when the body does not open under this key (a wrong passphrase). */
function openFileKey(key: Uint8Array, body: Uint8Array): Buffer | null {
  const d = createDecipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: TAG });
  d.setAuthTag(body.subarray(body.length - TAG));
  const fileKey = d.update(body.subarray(0, body.length - TAG));
  try {
    d.final();
  } catch {
    return null;
  }
  return fileKey;
}

const base64NoPad = (b: Uint8Array) => Buffer.from(b).toString('base64').replace(/=+$/, '');

/**
 * age's scrypt recipient (the one stanza of a passphrase file), with the file key kept for the payload:
 * `-> scrypt <base64(salt)> <logN>`, its body the file key sealed with ChaCha20-Poly1305 under the
 * scrypt key and a zero nonce.
 */
export function scryptRecipient(passphrase: string, logN: number, keep: (k: Uint8Array) => void): Recipient {
  return {
    async wrapFileKey(fileKey) {
      keep(fileKey);
      const salt = randomBytes(16);
      const key = await ageScryptKey(passphrase, salt, logN);
      return [new Stanza(['scrypt', base64NoPad(salt), String(logN)], sealFileKey(key, fileKey))];
    },
  };
}

/**
 * age's scrypt identity, its checks as age-encryption's (ScryptIdentity): the only stanza, a 16-byte
 * salt in canonical unpadded base64, a decimal work factor no higher than 20, a 32-byte body. All are
 * checked before the child runs; a body that does not open under the key is a wrong passphrase (null).
 */
export function scryptIdentity(passphrase: string): Identity {
  return {
    async unwrapFileKey(stanzas) {
      for (const s of stanzas) {
        if (s.args.length < 1 || s.args[0] !== 'scrypt') continue;
        if (stanzas.length !== 1) throw new Error('scrypt recipient is not the only one in the header');
        if (s.args.length !== 3 || !/^[1-9][0-9]*$/.test(s.args[2]!))
          throw new Error('invalid scrypt stanza');
        if (!/^[A-Za-z0-9+/]{22}$/.test(s.args[1]!)) throw new Error('invalid scrypt stanza');
        const salt = Buffer.from(s.args[1]!, 'base64');
        if (salt.length !== 16 || base64NoPad(salt) !== s.args[1]) throw new Error('invalid scrypt stanza');
        const logN = Number(s.args[2]);
        if (logN > MAX_LOG_N) throw new Error('scrypt work factor is too high');
        if (s.body.length !== 32) throw new Error('invalid stanza');
        const fileKey = openFileKey(await ageScryptKey(passphrase, salt, logN), s.body);
        if (fileKey) return fileKey;
      }
      return null;
    },
  };
}
