// data/secrets/tls/<name>: 0600 files in a 0700 directory, written atomically. The name is checked
// against the fixed set again here, so no request value can ever become a path.
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TlsFileName, TlsFiles } from '../../core/ports/tls-files.ts';
import { writeFileAtomic } from '../atomic-file.ts';

const NAME = /^(account\.key|eab-hmac|directory-ca\.pem|acme-[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?\.pem)$/;

export function tlsFiles(secretsDir: string): TlsFiles {
  const dir = join(secretsDir, 'tls');
  const path = (name: TlsFileName) => {
    if (!NAME.test(name) || name.includes('..')) throw new Error('not a TLS file name');
    return join(dir, name);
  };
  return {
    read(name) {
      const p = path(name);
      return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
    },
    write(name, text) {
      const p = path(name);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
      writeFileAtomic(p, text, { mode: 0o600 });
      // Made by a root `pic` command: the file belongs to whoever owns the secrets directory (cell-api).
      if (process.getuid?.() === 0) {
        const owner = statSync(secretsDir);
        for (const q of [dir, p]) chownSync(q, owner.uid, owner.gid);
      }
    },
    remove(name) {
      rmSync(path(name), { force: true });
    },
  };
}
