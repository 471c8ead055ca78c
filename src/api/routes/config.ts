import { z } from 'zod';
import { cellConfigSchema, configPatchSchema } from '../../schema/config.ts';
import { ADMIN, defineRoute } from '../route.ts';

const pendingSchema = z.object({
  pending: z.boolean(),
  changes: z.array(
    z.object({ field: z.string(), from: z.unknown(), to: z.unknown(), restart: z.array(z.string()) }),
  ),
  restart: z.array(z.string()),
});

export const configRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/config',
    access: ADMIN,
    tag: 'config',
    summary: 'The whole cell configuration (never contains a secret)',
    response: cellConfigSchema,
    handler: ({ deps }) => deps.config.get(),
  }),
  defineRoute({
    method: 'PUT',
    url: '/api/config',
    access: ADMIN,
    tag: 'config',
    summary: 'Change any part of the configuration; validated as a whole, nothing written on error',
    body: configPatchSchema,
    response: z.object({ config: cellConfigSchema, pending: pendingSchema }),
    handler: ({ deps, body, req }) => {
      req.auditTarget = Object.keys(body).join(',') || undefined;
      return deps.config.update(body);
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/config/pending',
    access: ADMIN,
    tag: 'config',
    summary: 'Changes stored but waiting for POST /api/config/apply (they restart containers)',
    response: pendingSchema,
    handler: ({ deps }) => deps.config.pending(),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/config/apply',
    access: ADMIN,
    tag: 'config',
    summary: 'Apply pending changes: re-render and recreate the containers they touch',
    response: z.object({
      applied: pendingSchema.shape.changes,
      restarted: z.array(z.string()),
      data_plane: z.string(),
    }),
    handler: ({ deps }) => deps.config.apply(deps.dataPlane),
  }),
];
