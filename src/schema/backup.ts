// Backups (ADR 0021): the ids, the archive's header and manifest, a job's progress and the list.
// An archive is a gzipped tar, optionally inside an age file (scrypt passphrase):
//   pic-backup.json   the header, first, so an archive from a newer PIC is refused before unpacking
//   db/cell.db        the database, serialised in one read transaction (never a copy of live files)
//   data/...          everything else in the API's data directory (secrets, vault, keys, tokens)
//   env/.env          the cell's .env, when this process knows it
//   config/...        the rendered daemon configs (informational: a restore renders them again)
//   volumes/<service>/<volume>/...  the live data volumes of installed services: each regular file at
//                     its path in the volume, every byte outside [A-Za-z0-9._@+=,-] of a name written
//                     as ~XX (hex; "my file" → my~20file), and last ~pic-volume.json (VOLUME_INDEX), the
//                     index of every entry with its owner, mode and time, symlinks and hard links
//   MANIFEST.json     last: the SHA-256 and size of every file above
import { z } from 'zod';

/** The archive format this PIC writes; it reads this one and every older one. */
export const BACKUP_FORMAT = 1;

/** backup-20261203-141500-a1b2c3: a UTC timestamp and 24 random bits; nothing else can be an id. */
export const BACKUP_ID_PATTERN = /^backup-\d{8}-\d{6}-[0-9a-f]{6}$/;

export const backupId = z
  .string()
  .max(64)
  .regex(BACKUP_ID_PATTERN, 'must be a backup id such as backup-20261203-141500-a1b2c3');

export const backupIdParams = z.object({ id: backupId }).strict();

/** A passphrase: long enough to resist guessing (scrypt slows each guess, it does not make one hard). */
export const backupPassphrase = z
  .string()
  .min(12, 'must be at least 12 characters')
  .max(1024, 'must be at most 1024 characters');

export const createBackupBody = z.object({ passphrase: backupPassphrase.optional() }).strict();
export const restoreBody = z.object({ passphrase: backupPassphrase.optional() }).strict();

/** Archive paths: relative, '/'-separated, no empty, '.' or '..' segment, printable ASCII only. */
export const ARCHIVE_PATH_PATTERN =
  /^(?!.*(^|\/)\.{1,2}(\/|$))[A-Za-z0-9._@+=,~-]+(\/[A-Za-z0-9._@+=,~-]+)*$/;

export const archivePath = z.string().max(1024).regex(ARCHIVE_PATH_PATTERN);

export const cellIdentitySchema = z.object({ cell_name: z.string().max(63), domain: z.string().max(253) });

export const backupHeaderSchema = z.object({
  format: z.number().int().min(1),
  pic_version: z.string().max(64),
  created_at: z.string().max(64),
  backup_id: backupId,
  cell: cellIdentitySchema,
});
export type BackupHeader = z.infer<typeof backupHeaderSchema>;

export const manifestEntrySchema = z.object({
  path: archivePath,
  size: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ManifestEntry = z.infer<typeof manifestEntrySchema>;

export const backupManifestSchema = backupHeaderSchema.extend({
  files: z.array(manifestEntrySchema).max(1_000_000),
});
export type BackupManifest = z.infer<typeof backupManifestSchema>;

export const HEADER_PATH = 'pic-backup.json';
export const MANIFEST_PATH = 'MANIFEST.json';

export const JOB_PHASES = [
  'queued',
  'database',
  'files',
  'volumes',
  'writing',
  'unpacking',
  'verifying',
  'vault',
  'identity',
  'database_swap',
  'volumes_restore',
  'reapplying',
  'done',
  'failed',
] as const;
export const jobPhase = z.enum(JOB_PHASES);
export type JobPhase = z.infer<typeof jobPhase>;

/** GET /api/config/backups/<id> while (and after) a backup or a restore of it runs. */
export const backupJobSchema = z.object({
  backup_id: backupId,
  kind: z.enum(['backup', 'restore']),
  phase: jobPhase,
  bytes_done: z.number().int().min(0),
  /** Known once the sizes are summed (backup) or from the archive's size (restore); null before. */
  bytes_total: z.number().int().min(0).nullable(),
  started_at: z.string(),
  finished_at: z.string().nullable(),
  error: z.string().nullable(),
  /** What the owner should know about a finished job (e.g. a restore kept this machine's .env). */
  notes: z.array(z.string()),
});
export type BackupJob = z.infer<typeof backupJobSchema>;

export const backupListItemSchema = z.object({
  backup_id: backupId,
  file: z.string(),
  size: z.number().int().min(0),
  created_at: z.string(),
  encrypted: z.boolean(),
});
export type BackupListItem = z.infer<typeof backupListItemSchema>;

/** GET /api/config/backups/<id>: the file (when it exists) and the last job that touched it. */
export const backupDetailSchema = z.object({
  backup: backupListItemSchema.nullable(),
  job: backupJobSchema.nullable(),
});

/** A service's data volume, as its manifest declares it (the store fills this list). */
export interface ServiceVolume {
  service: string;
  volume: string;
  /** The running container that holds it, and the path inside that container. */
  container: string;
  path: string;
}

/** A directory inside a container: absolute, segments of safe characters, no '.' or '..', never '/'. */
export const containerPath = z
  .string()
  .max(255)
  .regex(/^(\/[A-Za-z0-9._@+,=~-]+)+$/, 'must be an absolute path of letters, digits and . _ @ + , = ~ -')
  .refine((v) => !v.split('/').some((s) => s === '.' || s === '..'), 'must not contain . or .. segments');

/** The names are the archive's directories (the restore's layout allows exactly these). */
export const serviceVolumeSchema: z.ZodType<ServiceVolume> = z.object({
  service: z.string().regex(/^[a-z0-9-]{1,63}$/, 'must be lowercase letters, digits and -'),
  volume: z
    .string()
    .regex(/^[a-z0-9_.-]{1,63}$/, 'must be lowercase letters, digits and _ . -')
    .refine((v) => v !== '.' && v !== '..', 'must not be . or ..'),
  // Docker's own rule for a container's name (an id is hex, which it allows too).
  container: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'must be a container name'),
  path: containerPath,
});

/** The last file of each volume in an archive: what a plain file list cannot say. */
export const VOLUME_INDEX = '~pic-volume.json';

/** A path inside a volume: relative, '/'-separated, no empty, '.' or '..' segment, no NUL. */
const volumeEntryPath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\0') && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..'));

const volumeEntryMeta = {
  path: volumeEntryPath,
  mode: z.number().int().min(0).max(0o7777),
  uid: z.number().int().min(0).max(0xffff_ffff),
  gid: z.number().int().min(0).max(0xffff_ffff),
  /** Seconds since the epoch. */
  mtime: z.number().int(),
};

export const volumeEntrySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('directory'), ...volumeEntryMeta }),
  /** Its content is the archive file at the path's encoded name. */
  z.object({ type: z.literal('file'), size: z.number().int().min(0), ...volumeEntryMeta }),
  z.object({
    type: z.literal('symlink'),
    target: z
      .string()
      .min(1)
      .max(4096)
      .refine((t) => !t.includes('\0')),
    ...volumeEntryMeta,
  }),
  /** A hard link to a file listed before it (the target is that file's path). */
  z.object({ type: z.literal('link'), target: volumeEntryPath, ...volumeEntryMeta }),
]);
export type VolumeEntry = z.infer<typeof volumeEntrySchema>;

export const volumeIndexSchema = z.object({
  service: z.string(),
  volume: z.string(),
  entries: z.array(volumeEntrySchema).max(1_000_000),
});
export type VolumeIndex = z.infer<typeof volumeIndexSchema>;

/** Budgets a restore holds an archive to (a compression bomb or a flood of entries stops at the first). */
export interface UnpackLimits {
  maxEntries: number;
  maxEntryBytes: number;
  maxTotalBytes: number;
}

export const DEFAULT_UNPACK_LIMITS: UnpackLimits = {
  maxEntries: 200_000,
  maxEntryBytes: 8 * 1024 ** 3,
  maxTotalBytes: 64 * 1024 ** 3,
};

/** Uploads are capped at this size (PIC_BACKUP_UPLOAD_MAX_BYTES overrides it in the composition root). */
export const DEFAULT_UPLOAD_MAX_BYTES = 16 * 1024 ** 3;
