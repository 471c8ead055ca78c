// The BackupTargetFactory: a stored target's driver, a directory or an S3 bucket. Inside the cell a
// directory target is written at its mount in cell-api (/backup-targets/<id>, ADR 0022), never at
// the host path; `pic serve` outside Docker writes the host path itself.
import type { BackupTargetFactory } from '../../core/ports/backup-target.ts';
import { targetMountPath } from '../../schema/backup-schedule.ts';
import { directoryTarget } from './directory-target.ts';
import { s3Target } from './s3-target.ts';

/** The factory for a process inside the cell (`inCell`: directories at their mounts) or outside it. */
export function backupTargetsFor(
  inCell: boolean,
  cellNetworks: () => string[] = () => [],
): BackupTargetFactory {
  return (spec, secret, id) =>
    spec.kind === 'directory'
      ? inCell
        ? directoryTarget(targetMountPath(id), spec.path)
        : directoryTarget(spec.path)
      : s3Target({
          endpoint: spec.endpoint,
          region: spec.region,
          bucket: spec.bucket,
          prefix: spec.prefix,
          accessKeyId: spec.access_key_id,
          secretAccessKey: secret,
          // Checked again at each request, on what the host name resolves to (a stored row, too).
          allowPrivate: spec.allow_private_endpoint === true,
          cellNetworks,
        });
}

/** Outside the cell: directory targets at their host paths. */
export const backupTargets: BackupTargetFactory = backupTargetsFor(false);
