// The UI's file browser over the files service's volume (ADR 0010): paths inside one account's
// folder, and what the API answers. A path is relative, `/`-separated, and every segment is checked
// here, so nothing that climbs (`..`), starts at the root, or carries a NUL, a newline or another
// control character ever reaches the file system.
import { z } from 'zod';
import { accountUsername } from './service-accounts.ts';

/** The built-in Files service, its data volume (mounted into cell-api too) and who writes there. */
export const FILES_SERVICE_ID = 'files';
export const FILES_VOLUME = 'data';
/** pic-files in images/store/files: uid and gid 1000, the uid cell-api runs as. */
export const FILES_OWNER = { uid: 1000, gid: 1000 } as const;

/** Linux's NAME_MAX, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 255;
export const MAX_PATH_BYTES = 4096;
export const MAX_DEPTH = 64;

/** Why one name cannot be a file's or folder's name; undefined when it can. */
export function nameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (name === '.' || name === '..') return 'must not be . or ..';
  if (name.includes('/')) return 'must not contain /';
  if (name.includes('\\')) return 'must not contain \\';
  // C0 controls (NUL, newline, tab...), DEL and the C1 controls.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'must not contain control characters';
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) return `must be at most ${MAX_NAME_BYTES} bytes`;
  if (name.trim() !== name) return 'must not start or end with a space';
  return undefined;
}

/**
 * A segment as a message shows it: quoted, its first 40 characters, every control character escaped
 * (JSON.stringify leaves DEL and the C1 controls, a terminal's CSI among them, as they are).
 */
function shown(segment: string): string {
  return JSON.stringify(segment.slice(0, 40)).replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Splits a path into its segments (`''` is the folder itself); a problem as a message. */
export function pathSegments(path: string): { segments: string[] } | { problem: string } {
  if (path === '') return { segments: [] };
  if (path.startsWith('/')) return { problem: 'must be relative to the folder (no leading /)' };
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) return { problem: `must be at most ${MAX_PATH_BYTES} bytes` };
  const segments = path.split('/');
  if (segments.length > MAX_DEPTH) return { problem: `must be at most ${MAX_DEPTH} folders deep` };
  for (const s of segments) {
    const why = nameProblem(s);
    if (why) return { problem: `${shown(s)}: ${why}` };
  }
  return { segments };
}

/** A path inside the account's folder; `''` is the folder itself. Parsed to its segments. */
export const filesPath = z.string().transform((p, ctx) => {
  const r = pathSegments(p);
  if ('problem' in r) {
    ctx.addIssue({ code: 'custom', message: r.problem });
    return z.NEVER;
  }
  return r.segments;
});

/** A path that names an entry (not the folder itself). */
export const filesEntryPath = filesPath.refine((s) => s.length > 0, 'must name a file or folder');

const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

export const filesAccountParams = z.object({ account: accountUsername }).strict();
export const filesListQuery = z.object({ path: filesPath.default([]) }).strict();
export const filesEntryQuery = z.object({ path: filesEntryPath }).strict();
export const filesUploadQuery = z.object({ path: filesEntryPath, overwrite: flag.default(false) }).strict();
export const filesDeleteQuery = z.object({ path: filesEntryPath, recursive: flag.default(false) }).strict();
export const filesFolderBody = z.object({ path: filesEntryPath }).strict();
export const filesMoveBody = z.object({ from: filesEntryPath, to: filesEntryPath }).strict();

/** The files service's quota when nothing set one (its manifest's default). */
export const DEFAULT_QUOTA_MB = 1024;

export const fileEntrySchema = z.object({
  name: z.string(),
  type: z.enum(['file', 'folder']),
  /** Bytes (0 for a folder). */
  size: z.number(),
  modified: z.string(),
});
export type FileEntry = z.infer<typeof fileEntrySchema>;

export const filesListingSchema = z.object({
  account: z.string(),
  path: z.string(),
  entries: z.array(fileEntrySchema),
  used_bytes: z.number(),
  quota_bytes: z.number(),
});
export type FilesListing = z.infer<typeof filesListingSchema>;

export const filesAccountsSchema = z.object({
  quota_mb: z.number(),
  accounts: z.array(
    z.object({ username: z.string(), used_bytes: z.number().nullable(), has_folder: z.boolean() }),
  ),
});
