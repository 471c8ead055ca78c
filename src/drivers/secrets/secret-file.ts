// One secret in its own file under the secrets directory: 0600 in a 0700 directory, written
// atomically, read on each use (so a restore or a manual fix is seen without a restart).
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SecretFile } from '../../core/ports/secret-file.ts';
import { writeFileAtomic } from '../atomic-file.ts';

export function secretFile(path: string): SecretFile {
  return {
    read() {
      if (!existsSync(path)) return undefined;
      const v = readFileSync(path, 'utf8').trim();
      return v === '' ? undefined : v;
    },
    write(value) {
      const dir = dirname(path);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
      writeFileAtomic(path, `${value}\n`, { mode: 0o600 });
    },
    remove() {
      rmSync(path, { force: true });
    },
  };
}
