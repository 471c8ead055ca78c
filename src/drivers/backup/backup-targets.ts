// The BackupTargetFactory: a stored target's driver, a directory or an S3 bucket.
import type { BackupTargetFactory } from '../../core/ports/backup-target.ts';
import { directoryTarget } from './directory-target.ts';
import { s3Target } from './s3-target.ts';

export const backupTargets: BackupTargetFactory = (spec, secret) =>
  spec.kind === 'directory'
    ? directoryTarget(spec.path)
    : s3Target({
        endpoint: spec.endpoint,
        region: spec.region,
        bucket: spec.bucket,
        prefix: spec.prefix,
        accessKeyId: spec.access_key_id,
        secretAccessKey: secret,
      });
