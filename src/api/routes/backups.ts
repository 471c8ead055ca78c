// Backups and restores (spec "Admin – Back Up and Restore"; ADR 0021). The work runs in the
// background: POST answers 202 with the id, GET /api/config/backups/<id> shows its progress.
import type { Readable } from 'node:stream';
import { z } from 'zod';
import {
  backupDetailSchema,
  backupIdParams,
  backupJobSchema,
  backupListItemSchema,
  createBackupBody,
  DEFAULT_UPLOAD_MAX_BYTES,
  restoreBody,
} from '../../schema/backup.ts';
import { closeAfterRefusedBody } from '../refused-body.ts';
import { ADMIN, defineRoute } from '../route.ts';

const accepted = z.object({ backup_id: z.string(), message: z.string() });

export const backupRoutes = [
  defineRoute({
    method: 'POST',
    url: '/api/config/backup',
    access: ADMIN,
    tag: 'backups',
    summary:
      'Back up the whole cell in the background (202); with a passphrase (12+ characters) the archive is an age file',
    body: createBackupBody,
    status: 202,
    response: accepted,
    handler: ({ deps, body, req }) => {
      const { backup_id } = deps.backups.create({
        ...(body.passphrase !== undefined ? { passphrase: body.passphrase } : {}),
        origin: 'api',
      });
      req.auditTarget = backup_id;
      return { backup_id, message: `Backup started; follow it at /api/config/backups/${backup_id}` };
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/config/backups',
    access: ADMIN,
    tag: 'backups',
    summary: 'Every backup on this cell, newest first, and the running (or last) job',
    response: z.object({ backups: z.array(backupListItemSchema), job: backupJobSchema.nullable() }),
    handler: ({ deps }) => deps.backups.list(),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/config/backups/:id',
    access: ADMIN,
    tag: 'backups',
    summary: "One backup and its job's progress (phase, bytes done and total)",
    params: backupIdParams,
    response: backupDetailSchema,
    handler: ({ deps, params }) => deps.backups.detail(params.id),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/config/backups/:id/download',
    access: ADMIN,
    auditRead: true,
    tag: 'backups',
    summary: 'The archive itself, streamed (it holds every key of the cell: keep it safe)',
    params: backupIdParams,
    handler: ({ deps, params, reply }) => {
      const { stream, size, file } = deps.backups.download(params.id);
      return reply
        .type('application/octet-stream')
        .header('content-length', String(size))
        .header('content-disposition', `attachment; filename="${file}"`)
        .header('cache-control', 'no-store')
        .send(stream);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/config/backups/upload',
    access: ADMIN,
    tag: 'backups',
    summary: 'Upload an archive (the raw file as application/octet-stream, size-capped) to restore it here',
    // The service holds the upload to the cell's own cap as it streams; this refuses a larger Content-Length.
    rawBody: { maxBytes: DEFAULT_UPLOAD_MAX_BYTES, stream: true },
    status: 201,
    response: z.object({ backup_id: z.string() }),
    handler: async ({ deps, body, req, reply }) => {
      try {
        const result = await deps.backups.upload(body as unknown as Readable, 'api');
        req.auditTarget = result.backup_id;
        return result;
      } catch (err) {
        // The rest of a refused body is not read: the answer closes the connection, and the socket
        // goes shortly after it is sent (a lingering close: no reset that loses the answer), or a
        // client could hold it open (and shutdown waiting) for ever.
        closeAfterRefusedBody(req, reply);
        throw err;
      }
    },
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/config/backups/:id',
    access: ADMIN,
    tag: 'backups',
    summary: 'Delete a backup (204)',
    params: backupIdParams,
    status: 204,
    handler: ({ deps, params, req }) => {
      req.auditTarget = params.id;
      deps.backups.remove(params.id, 'api');
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/config/restore/:id',
    access: ADMIN,
    tag: 'backups',
    summary:
      'Restore a backup (202): the passphrase is checked first (400 naming it); then staged, verified, swapped in and every daemon re-applied; every session ends',
    params: backupIdParams,
    body: restoreBody,
    status: 202,
    response: accepted,
    handler: async ({ deps, params, body, req }) => {
      req.auditTarget = params.id;
      const { backup_id } = await deps.backups.restore(params.id, body.passphrase, 'api');
      return { backup_id, message: `Restore started; follow it at /api/config/backups/${backup_id}` };
    },
  }),
];
