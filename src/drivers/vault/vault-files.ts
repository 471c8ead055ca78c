// The vault's secret files: data/secrets/vault/<name> (0600, directory 0700), written atomically.
// Names come from a fixed list (VaultFileName), never from a request.
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import type { VaultFileName, VaultFiles } from '../../core/ports/vault.ts';
import { fsyncDir, writeFileAtomic } from '../atomic-file.ts';

export function vaultFiles(secretsDir: string): VaultFiles {
  const dir = join(secretsDir, 'vault');
  const files: VaultFiles = {
    read(name: VaultFileName) {
      const path = join(dir, name);
      return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    },
    write(name: VaultFileName, text: string) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
      const path = join(dir, name);
      writeFileAtomic(path, text, { mode: 0o600 });
      // Made by a root `pic` command: the file belongs to whoever owns the secrets directory (cell-api).
      if (process.getuid?.() === 0) {
        const owner = statSync(secretsDir);
        for (const p of [dir, path]) chownSync(p, owner.uid, owner.gid);
      }
    },
    create(name: VaultFileName, text: string) {
      // Written whole under a temp name (swept after a crash), then linked: link never replaces.
      const staged = `.pic-tmp-create-${name}.${randomBytes(6).toString('hex')}`;
      files.write(staged as VaultFileName, text);
      try {
        linkSync(join(dir, staged), join(dir, name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw err;
      } finally {
        rmSync(join(dir, staged), { force: true });
        fsyncDir(dir);
      }
      return true;
    },
  };
  return files;
}
