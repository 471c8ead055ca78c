// Short secrets kept in the database sealed with AES-256-GCM under a key of their own in the secrets
// directory (0600), so a copy of the database alone (a dump in a bug report, a row in a log) does not
// give them away. The key is made on first use. Sealed text reads `v1.<iv>.<tag>.<ciphertext>` in
// base64url; text without that prefix is returned as it is (rows written before sealing).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SecretFile } from '../../core/ports/secret-file.ts';

export interface SealedText {
  seal(plain: string): string;
  open(stored: string): string;
}

const PREFIX = 'v1.';

export function sealedText(keyFile: SecretFile): SealedText {
  const key = (): Buffer => {
    let k = keyFile.read();
    if (k === undefined) {
      k = randomBytes(32).toString('base64url');
      keyFile.write(k);
    }
    const bytes = Buffer.from(k, 'base64url');
    if (bytes.length !== 32) throw new Error('the sealing key file does not hold a 32-byte key');
    return bytes;
  };
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key(), iv);
      const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return `${PREFIX}${[iv, c.getAuthTag(), ct].map((b) => b.toString('base64url')).join('.')}`;
    },
    open(stored) {
      if (!stored.startsWith(PREFIX)) return stored;
      const [iv, tag, ct] = stored
        .slice(PREFIX.length)
        .split('.')
        .map((p) => Buffer.from(p, 'base64url'));
      if (!iv || !tag || !ct) throw new Error('a sealed value is malformed');
      const d = createDecipheriv('aes-256-gcm', key(), iv);
      d.setAuthTag(tag);
      return Buffer.concat([d.update(ct), d.final()]).toString('utf8');
    },
  };
}
