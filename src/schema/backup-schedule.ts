// Scheduled backups and their off-host targets (ADR 0022): the schedule, how its archives are
// encrypted (an age recipient, or a passphrase kept in a secret file), and where copies go (a
// directory, an S3 bucket). Secrets are write-only: a view says whether one is set, never its value.
// Every value that reaches a path, a URL or a request header is allow-listed here.
import { z } from 'zod';
import { backupPassphrase } from './backup.ts';
import { webUrl } from './fields.ts';

/** Targets an owner may keep: each gets a copy of every scheduled backup. */
export const MAX_BACKUP_TARGETS = 8;

/**
 * The only names the scheduler writes to a target: a backup archive (its id, then .tar.gz and
 * optionally .age) or the probe of a target test. Drivers refuse any other name.
 */
export const TARGET_OBJECT_NAME =
  /^(backup-\d{8}-\d{6}-[0-9a-f]{6}\.tar\.gz(\.age)?|pic-probe-[0-9a-f]{16})$/;

/** The backup id an archive's object name starts with; undefined for any other name. */
export const backupIdOfObject = (name: string): string | undefined =>
  /^(backup-\d{8}-\d{6}-[0-9a-f]{6})\.tar\.gz(\.age)?$/.exec(name)?.[1];

/**
 * An age X25519 recipient: `age1` and the bech32 data part, lowercase (bech32 has no 1, b, i or o).
 * 58 characters for X25519; some room above for other recipient types, capped at 100 in all.
 */
export const ageRecipient = z
  .string()
  .max(100, 'must be at most 100 characters')
  .regex(/^age1[02-9ac-hj-np-z]{50,96}$/, 'must be an age recipient (age1 followed by lowercase bech32)');

/**
 * A stored passphrase: the backup rules, one line, and no space at either end (the secret file is
 * read back trimmed, so such a passphrase would not be the one the archives were encrypted with).
 */
export const schedulePassphrase = backupPassphrase
  .regex(/^[^\p{Cc}\p{Cf}]*$/u, 'must be one line of printable text')
  .refine((v) => v.trim() === v, 'must not start or end with a space');

/**
 * Where directory targets may live on the host: mount points of removable disks and shares, never a
 * system or PIC directory. A restored database brings its targets along, so a stored one is checked
 * again on read (a crafted backup must not get /etc mounted read-write into cell-api).
 */
export const TARGET_PATH_PREFIXES = ['/mnt/', '/media/', '/srv/'] as const;

/**
 * An absolute directory under /mnt/, /media/ or /srv/ with at least one component below it (such
 * as /mnt/usb/pic): '/'-separated segments of safe characters, no '.' or '..' segment, no trailing slash.
 */
export const targetPath = z
  .string()
  .max(255, { message: 'must be at most 255 characters', abort: true })
  .regex(/^(\/[A-Za-z0-9._@+,=~-]+)+$/, {
    message: 'must be an absolute path of letters, digits and . _ @ + , = ~ - (no trailing slash)',
    abort: true,
  })
  .refine((v) => !v.split('/').some((s) => s === '.' || s === '..'), {
    message: 'must not contain . or .. segments',
    abort: true,
  })
  .refine(
    (v) => TARGET_PATH_PREFIXES.some((p) => v.startsWith(p) && v.length > p.length),
    `must be a directory under ${TARGET_PATH_PREFIXES.join(', ')} (such as /mnt/usb/pic)`,
  );

/** Where cell-api sees directory target `id` (ADR 0022): a fixed prefix, never the host path. */
export const TARGET_MOUNT_ROOT = '/backup-targets';
export function targetMountPath(id: number): string {
  if (!Number.isSafeInteger(id) || id < 1) throw new Error(`invalid backup target id ${String(id)}`);
  return `${TARGET_MOUNT_ROOT}/${id}`;
}

/** An S3 endpoint: https (http only on loopback, for a local test server), no path, query or fragment. */
export const s3Endpoint = webUrl({ max: 255, httpsExceptLoopback: true }).refine((v) => {
  try {
    const u = new URL(v);
    return (u.pathname === '/' || u.pathname === '') && u.search === '';
  } catch {
    return true; // webUrl names that error
  }
}, 'must be the endpoint only (scheme, host and port), without a path or query');

export const s3Region = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/, 'must be a region such as us-east-1 (a-z, 0-9, -)');

/** S3's bucket naming rules (general purpose buckets). */
export const s3Bucket = z
  .string()
  .min(3, { message: 'must be 3 to 63 characters', abort: true })
  .max(63, { message: 'must be 3 to 63 characters', abort: true })
  .regex(/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, {
    message:
      'must be lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit',
    abort: true,
  })
  .refine((v) => !v.includes('..'), 'must not contain two dots in a row')
  .refine((v) => !/^\d{1,3}(\.\d{1,3}){3}$/.test(v), 'must not look like an IP address')
  .refine(
    (v) => !/^(xn--|sthree-|amzn-s3-demo-)/.test(v) && !/(-s3alias|--ol-s3|--x-s3|\.mrap)$/.test(v),
    'must not use a prefix or suffix S3 reserves',
  );

/** A key prefix: '/'-separated segments of safe characters, no '.' or '..' segment, no slash at either end. */
export const s3Prefix = z
  .string()
  .max(200, { message: 'must be at most 200 characters', abort: true })
  .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, {
    message: 'must be segments of A-Z a-z 0-9 . _ - joined by /',
    abort: true,
  })
  .refine((v) => !v.split('/').some((s) => s === '.' || s === '..'), 'must not contain . or .. segments');

export const s3AccessKeyId = z
  .string()
  .regex(/^[A-Za-z0-9._-]{3,128}$/, 'must be 3 to 128 letters, digits, dots, underscores or hyphens');

export const s3SecretAccessKey = z
  .string()
  .regex(/^[\x21-\x7e]{8,256}$/, 'must be 8 to 256 printable ASCII characters, no spaces');

/**
 * PUT /api/config/backups/schedule. Encryption: `recipient` or `passphrase` (setting one clears the
 * other; null clears it; left out: kept). Targets need one of them (checked against what is stored).
 */
export const backupScheduleBody = z
  .object({
    enabled: z.boolean(),
    /** The hour of the day, UTC, at which the backup starts. */
    hour: z.number().int().min(0).max(23),
    /** The newest backup of each of the last N days that have one. */
    keep_daily: z.number().int().min(0).max(60),
    /** The newest backup of each of the last M ISO weeks that have one. */
    keep_weekly: z.number().int().min(0).max(52),
    recipient: ageRecipient.nullable().optional(),
    passphrase: schedulePassphrase.nullable().optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (typeof b.recipient === 'string' && typeof b.passphrase === 'string')
      ctx.addIssue({
        code: 'custom',
        path: ['passphrase'],
        message: 'give a recipient or a passphrase, not both',
      });
  });
export type BackupScheduleBody = z.infer<typeof backupScheduleBody>;

export const TARGET_KINDS = ['directory', 's3'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

const S3_FIELDS = ['endpoint', 'region', 'bucket', 'access_key_id', 'secret_access_key'] as const;

/**
 * POST /api/config/backups/targets: one flat object (each field named in an error), the fields of
 * the other kind refused. `path` for a directory; endpoint, region, bucket, prefix, access key id
 * and secret access key (write-only) for S3.
 */
export const backupTargetBody = z
  .object({
    kind: z.enum(TARGET_KINDS),
    path: targetPath.optional(),
    endpoint: s3Endpoint.optional(),
    region: s3Region.optional(),
    bucket: s3Bucket.optional(),
    prefix: s3Prefix.optional(),
    access_key_id: s3AccessKeyId.optional(),
    secret_access_key: s3SecretAccessKey.optional(),
    /** The endpoint may be on loopback, link-local or the cell's own networks (private-endpoint.ts). */
    allow_private_endpoint: z.boolean().optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    const need = (field: string, message = `is required for a ${b.kind} target`) =>
      ctx.addIssue({ code: 'custom', path: [field], message });
    if (b.kind === 'directory') {
      if (b.path === undefined) need('path');
      for (const f of [...S3_FIELDS, 'prefix', 'allow_private_endpoint'] as const)
        if (b[f] !== undefined) need(f, 'is for s3 targets only');
    } else {
      for (const f of S3_FIELDS) if (b[f] === undefined) need(f);
      if (b.path !== undefined) need('path', 'is for directory targets only');
    }
  });
export type BackupTargetBody = z.infer<typeof backupTargetBody>;

/** A stored target's fields (backup_targets.spec, without its kind): checked again on every read. */
export const storedTargetSpec = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('directory'), path: targetPath }).strict(),
  z
    .object({
      kind: z.literal('s3'),
      endpoint: s3Endpoint,
      region: s3Region,
      bucket: s3Bucket,
      prefix: s3Prefix.nullable(),
      access_key_id: s3AccessKeyId,
      allow_private_endpoint: z.boolean().optional(),
    })
    .strict(),
]);

/** What a target holds, as core keeps it (the secret access key is in its own secret file). */
export type BackupTargetSpec =
  | { kind: 'directory'; path: string }
  | {
      kind: 's3';
      endpoint: string;
      region: string;
      bucket: string;
      prefix: string | null;
      access_key_id: string;
      /** Set by the owner: the endpoint may be on loopback, link-local or the cell's own networks. */
      allow_private_endpoint?: boolean;
    };

export const targetResultSchema = z.object({
  at: z.string(),
  ok: z.boolean(),
  /** Why the copy failed (never a secret); null when it worked. */
  error: z.string().nullable(),
  backup_id: z.string().nullable(),
});
export type TargetResult = z.infer<typeof targetResultSchema>;

const targetCommon = {
  id: z.number().int(),
  created_at: z.string(),
  /** The last copy to this target, worked or failed. */
  last_result: targetResultSchema.nullable(),
  /** A backup not yet copied here (a failed copy is retried until the next scheduled backup). */
  pending_backup_id: z.string().nullable(),
};

export const backupTargetView = z.discriminatedUnion('kind', [
  z.object({ ...targetCommon, kind: z.literal('directory'), path: z.string() }),
  z.object({
    ...targetCommon,
    kind: z.literal('s3'),
    endpoint: z.string(),
    region: z.string(),
    bucket: z.string(),
    prefix: z.string().nullable(),
    access_key_id: z.string(),
    allow_private_endpoint: z.boolean().optional(),
    secret_set: z.boolean(),
  }),
]);
export type BackupTargetView = z.infer<typeof backupTargetView>;

export const backupScheduleView = z.object({
  schedule: z.object({
    enabled: z.boolean(),
    hour: z.number().int(),
    keep_daily: z.number().int(),
    keep_weekly: z.number().int(),
  }),
  encryption: z.object({ recipient: z.string().nullable(), passphrase_set: z.boolean() }),
  targets: z.array(backupTargetView),
  /** When the next scheduled backup starts; null when the schedule is off. */
  next_run_at: z.string().nullable(),
  last_run: z
    .object({ at: z.string(), backup_id: z.string().nullable(), error: z.string().nullable() })
    .nullable(),
  /** False when this process has no backup engine to run the schedule with. */
  available: z.boolean(),
});
export type BackupScheduleView = z.infer<typeof backupScheduleView>;

export const targetTestResult = z.object({ ok: z.boolean(), error: z.string().nullable() });
export type TargetTestResult = z.infer<typeof targetTestResult>;
