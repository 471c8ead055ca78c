// Scheduled backups and their off-host targets (ADR 0022). Admin only: the schedule decides what
// leaves the machine and where. Secrets (the passphrase, a target's secret access key) are
// write-only: answers say whether one is set. Each handler is one call into BackupScheduleService.
import {
  backupScheduleBody,
  backupScheduleView,
  backupTargetBody,
  backupTargetView,
  targetTestResult,
} from '../../schema/backup-schedule.ts';
import { rowIdParams } from '../../schema/fields.ts';
import { ADMIN, defineRoute } from '../route.ts';

export const backupScheduleRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/config/backups/schedule',
    access: ADMIN,
    tag: 'backups',
    summary:
      'The backup schedule (hour UTC, retention), its encryption (the recipient, whether a passphrase is set), ' +
      'the targets with the last result of each, the next run and the last one',
    response: backupScheduleView,
    handler: ({ deps }) => deps.backupSchedule.view(),
  }),
  defineRoute({
    method: 'PUT',
    url: '/api/config/backups/schedule',
    access: ADMIN,
    tag: 'backups',
    summary:
      'Set the schedule and retention; encryption by an age recipient or a stored passphrase ' +
      '(setting one clears the other, null clears it, left out keeps it). Targets need one of them',
    body: backupScheduleBody,
    response: backupScheduleView,
    handler: ({ deps, body }) => deps.backupSchedule.configure(body),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/config/backups/targets',
    access: ADMIN,
    tag: 'backups',
    summary:
      'Add a target every scheduled backup is copied to: a directory (absolute path) or an S3 bucket ' +
      '(endpoint, region, bucket, prefix, access key id and secret access key, write-only)',
    body: backupTargetBody,
    response: backupTargetView,
    status: 201,
    handler: ({ deps, body, req }) => {
      req.auditTarget = body.kind === 's3' ? `s3 bucket=${body.bucket}` : `directory=${body.path}`;
      return deps.backupSchedule.addTarget(body);
    },
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/config/backups/targets/:id',
    access: ADMIN,
    tag: 'backups',
    summary: 'Remove a target and its stored secret (the copies already there stay)',
    params: rowIdParams,
    handler: ({ deps, params }) => deps.backupSchedule.removeTarget(params.id),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/config/backups/targets/:id/test',
    access: ADMIN,
    tag: 'backups',
    summary: 'Write a small probe object to the target, list it and remove it; answers what failed',
    params: rowIdParams,
    response: targetTestResult,
    handler: ({ deps, params }) => deps.backupSchedule.testTarget(params.id),
  }),
];
