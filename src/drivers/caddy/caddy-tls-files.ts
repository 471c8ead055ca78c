// The certificate files cell-caddy loads (tls.certificates.load_files): data/caddy-tls/cert.pem (the
// chain) and key.pem, both 0640, owned by whoever writes them (cell-api, uid 1000) and Caddy's group
// (970), in a setgid directory only cell-caddy (read-only) and cell-api mount. Never world-readable.
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CaddyTlsFilesPort } from '../../core/ports/caddy-tls-files.ts';
import { CADDY_TLS_FILES, CADDY_UID } from '../../schema/runtime.ts';
import { writeFileAtomic } from '../atomic-file.ts';

export interface CaddyTlsFilesOptions {
  /** The group Caddy runs with (default 970); the writer must be root or a member of it. */
  gid?: number;
  /** Owner when written by root (`pic up`): cell-api's uid, which rewrites them later. */
  rootOwner?: number;
}

export function caddyTlsFiles(dir: string, opts: CaddyTlsFilesOptions = {}): CaddyTlsFilesPort {
  const gid = opts.gid ?? CADDY_UID;
  const cert = join(dir, CADDY_TLS_FILES.cert);
  const key = join(dir, CADDY_TLS_FILES.key);
  const own = (path: string) => {
    const root = process.getuid?.() === 0;
    // A member of the group may hand its own file to it; root also gives the file to cell-api.
    chownSync(path, root ? (opts.rootOwner ?? 1000) : (process.getuid?.() ?? -1), gid);
    chmodSync(path, 0o640);
  };
  return {
    currentChain: () => (existsSync(cert) ? readFileSync(cert, 'utf8') : undefined),
    hasKey: () => existsSync(key),
    write(chainPem, keyPem) {
      mkdirSync(dir, { recursive: true, mode: 0o2750 });
      writeFileAtomic(key, keyPem, { mode: 0o600 });
      own(key);
      writeFileAtomic(cert, chainPem, { mode: 0o600 });
      own(cert);
    },
  };
}
