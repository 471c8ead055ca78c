import { chownSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Creates a bind-mounted directory (0700) and gives the whole tree to the uid the container's
 * daemon runs as, so files a root CLI command created there stay readable by the daemon.
 */
export function prepareBind(path: string, uid: number): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if (process.getuid?.() === 0) chownTree(path, uid);
}

export function chownTree(path: string, uid: number): void {
  const st = lstatSync(path);
  if (st.uid !== uid || st.gid !== uid) chownSync(path, uid, uid);
  if (!st.isDirectory()) return;
  for (const name of readdirSync(path)) {
    const child = join(path, name);
    if (!lstatSync(child).isSymbolicLink()) chownTree(child, uid);
  }
}
