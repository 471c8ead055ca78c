import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';
import type { BindSpec, RenderedFile } from '../../schema/runtime.ts';
import { writeFileAtomic } from '../atomic-file.ts';

/**
 * Why an external directory (a backup target, ADR 0022) is not mounted: it is missing, not a
 * directory, a symlink or reached through one. Undefined when it may be mounted.
 */
export function externalBindRefusal(path: string): string | undefined {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    return `${path} does not exist`;
  }
  if (st.isSymbolicLink()) return `${path} is a symlink`;
  if (!st.isDirectory()) return `${path} is not a directory`;
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return `${path} cannot be resolved`;
  }
  if (real !== path) return `${path} passes through a symlink (it resolves to ${real})`;
  return undefined;
}

/**
 * Creates a bind-mounted directory (0700 unless the spec says otherwise) and gives the whole tree to
 * the uid the container's daemon runs as, so files a root CLI command created there stay readable by
 * the daemon. An external directory (the owner's) is neither created nor chowned: it must be a real
 * directory, not a symlink nor reached through one; the owner gives it to cell-api's uid
 * (`chown 1000 /mnt/usb/pic`). A refused one throws: `pic up` leaves such targets out of the desired
 * state already (composition), so this is the last check before Docker mounts it.
 */
export function prepareBind(bind: BindSpec): void {
  if (bind.external) {
    const why = externalBindRefusal(bind.host);
    if (why) throw new Error(`Backup target directory refused, not mounted: ${why}`);
    return;
  }
  const mode = bind.mode ?? 0o700;
  mkdirSync(bind.host, { recursive: true, mode });
  if (process.getuid?.() === 0) {
    if (bind.shallow) chownSync(bind.host, bind.uid, bind.gid ?? bind.uid);
    else chownTree(bind.host, bind.uid, bind.gid ?? bind.uid);
  }
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
