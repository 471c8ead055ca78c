import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BindSpec, RenderedFile } from '../../schema/runtime.ts';
import { writeFileAtomic } from '../atomic-file.ts';

/**
 * Creates a bind-mounted directory (0700 unless the spec says otherwise) and gives the whole tree to
 * the uid the container's daemon runs as, so files a root CLI command created there stay readable by
 * the daemon.
 */
export function prepareBind(bind: BindSpec): void {
  if (bind.external) {
    // The owner's directory: not created, its contents not touched; cell-api must be able to write it.
    if (process.getuid?.() === 0 && existsSync(bind.host))
      chownSync(bind.host, bind.uid, bind.gid ?? bind.uid);
    return;
  }
  const mode = bind.mode ?? 0o700;
  mkdirSync(bind.host, { recursive: true, mode });
  if (process.getuid?.() === 0) chownTree(bind.host, bind.uid, bind.gid ?? bind.uid);
  // After the chown, which may clear a setgid bit (a shared directory keeps its group for new files).
  if (bind.mode !== undefined) chmodSync(bind.host, mode);
}

export function chownTree(path: string, uid: number, gid = uid): void {
  const st = lstatSync(path);
  if (st.uid !== uid || st.gid !== gid) chownSync(path, uid, gid);
  if (!st.isDirectory()) return;
  for (const name of readdirSync(path)) {
    const child = join(path, name);
    if (!lstatSync(child).isSymbolicLink()) chownTree(child, uid, gid);
  }
}

/** Writes a rendered file (0644: configs hold no secret) unless it already has this content. */
export function writeRenderedFile(file: RenderedFile): boolean {
  try {
    if (readFileSync(file.path, 'utf8') === file.content) return false;
  } catch {
    // Missing or unreadable: write it.
  }
  writeFileAtomic(file.path, file.content, { mode: 0o644 });
  return true;
}
