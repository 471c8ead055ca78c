// The UI's file browser over the Files service (ADR 0010). Every operation twice, with its own role
// rule: under /api/files/<account>/ for the owner (any account's folder) and under /api/peer/files/
// for a peer (its own folder: the account is the session's name, never a parameter). Handlers are one
// call into FilesService each; paths are parsed by schema/files.ts (each segment checked).
import type { Readable } from 'node:stream';
import type { Session } from '../../core/auth/sessions.ts';
import {
  fileEntrySchema,
  filesAccountParams,
  filesAccountsSchema,
  filesDeleteQuery,
  filesEntryQuery,
  filesFolderBody,
  filesListingSchema,
  filesListQuery,
  filesMoveBody,
  filesUploadQuery,
} from '../../schema/files.ts';
import type { Role } from '../../schema/users.ts';
import { closeAfterRefusedBody } from '../refused-body.ts';
import { ADMIN, defineRoute, type RouteDef } from '../route.ts';

/** Up to 1 TiB declared (the quota's own maximum): the quota decides, as the body streams. */
const UPLOAD_MAX_BYTES = 2 ** 40;

interface Side {
  base: string;
  access: readonly Role[];
  params: typeof filesAccountParams | undefined;
  whose: string;
  account: (ctx: { params: unknown; session: Session | undefined }) => string;
}

const SIDES: Side[] = [
  {
    base: '/api/files/:account',
    access: ADMIN,
    params: filesAccountParams,
    whose: "an account's folder",
    account: ({ params }) => (params as { account: string }).account,
  },
  {
    base: '/api/peer/files',
    access: ['peer'],
    params: undefined,
    whose: "the peer's own folder",
    account: ({ session }) => session!.username,
  },
];

/** `attachment` always (a file is never shown inline on the UI's origin), with its name for the browser. */
function disposition(name: string): string {
  const ascii = name.replace(/[^A-Za-z0-9._ -]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

function sideRoutes(s: Side): RouteDef[] {
  const p = s.params ? { params: s.params } : {};
  return [
    defineRoute({
      method: 'GET',
      url: `${s.base}/list`,
      access: s.access,
      tag: 'files',
      summary: `Files: the folder at \`path\` in ${s.whose} (files and folders; symlinks are never shown), with the account's usage and quota`,
      ...p,
      query: filesListQuery,
      response: filesListingSchema,
      handler: (ctx) => ctx.deps.files.list(s.account(ctx), ctx.query.path),
    }),
    defineRoute({
      method: 'GET',
      url: `${s.base}/download`,
      access: s.access,
      tag: 'files',
      summary: `Files: download the file at \`path\` in ${s.whose} (streamed, always as an attachment)`,
      ...p,
      query: filesEntryQuery,
      handler: async (ctx) => {
        const { stream, size, name } = await ctx.deps.files.download(s.account(ctx), ctx.query.path);
        return ctx.reply
          .type('application/octet-stream')
          .header('content-length', String(size))
          .header('content-disposition', disposition(name))
          .header('cache-control', 'no-store')
          .send(stream);
      },
    }),
    defineRoute({
      method: 'PUT',
      url: `${s.base}/upload`,
      access: s.access,
      tag: 'files',
      summary:
        `Files: upload the raw body (application/octet-stream) as the file at \`path\` in ${s.whose}; ` +
        '409 if it exists unless overwrite=true; 507 over the quota',
      ...p,
      query: filesUploadQuery,
      rawBody: { maxBytes: UPLOAD_MAX_BYTES, stream: true },
      status: 201,
      response: fileEntrySchema,
      handler: async (ctx) => {
        const declared = Number(ctx.req.headers['content-length']);
        try {
          return await ctx.deps.files.upload(
            s.account(ctx),
            ctx.query.path,
            ctx.body as unknown as Readable,
            {
              overwrite: ctx.query.overwrite,
              declaredBytes: Number.isFinite(declared) ? declared : undefined,
            },
          );
        } catch (err) {
          // The rest of a refused body is not read: the answer closes the connection, without a
          // reset that would lose it on its way (as backups do).
          closeAfterRefusedBody(ctx.req, ctx.reply);
          throw err;
        }
      },
    }),
    defineRoute({
      method: 'POST',
      url: `${s.base}/folders`,
      access: s.access,
      tag: 'files',
      summary: `Files: make a folder at \`path\` in ${s.whose} (its parent must exist)`,
      ...p,
      body: filesFolderBody,
      status: 201,
      response: fileEntrySchema,
      handler: (ctx) => ctx.deps.files.mkdir(s.account(ctx), ctx.body.path),
    }),
    defineRoute({
      method: 'POST',
      url: `${s.base}/move`,
      access: s.access,
      tag: 'files',
      summary: `Files: rename or move \`from\` to \`to\` (both full paths) in ${s.whose}; 409 if \`to\` exists`,
      ...p,
      body: filesMoveBody,
      response: fileEntrySchema,
      handler: (ctx) => ctx.deps.files.move(s.account(ctx), ctx.body.from, ctx.body.to),
    }),
    defineRoute({
      method: 'DELETE',
      url: `${s.base}/entries`,
      access: s.access,
      tag: 'files',
      summary: `Files: delete the file or folder at \`path\` in ${s.whose} (a folder that is not empty only with recursive=true)`,
      ...p,
      query: filesDeleteQuery,
      status: 204,
      handler: (ctx) => ctx.deps.files.remove(s.account(ctx), ctx.query.path, ctx.query.recursive),
    }),
  ];
}

export const filesRoutes: RouteDef[] = [
  defineRoute({
    method: 'GET',
    url: '/api/files',
    access: ADMIN,
    tag: 'files',
    summary:
      'Files: the per-account quota (the service setting quota_mb, set with PUT /api/services/files/settings) and every Files account with the space it uses',
    response: filesAccountsSchema,
    handler: ({ deps }) => deps.files.overview(),
  }),
  ...SIDES.flatMap(sideRoutes),
];
