import { z } from 'zod';
import { timezones } from '../../schema/fields.ts';
import { STORE_SERVICE_IDS, setupInputSchema } from '../../schema/setup.ts';
import { defineRoute } from '../route.ts';
import { setSessionCookie } from '../session-cookie.ts';

export const setupRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/setup/status',
    access: 'public',
    tag: 'setup',
    summary: 'Whether first-run setup has been completed',
    response: z.object({ completed: z.boolean() }),
    handler: ({ deps }) => ({ completed: deps.setup.isCompleted() }),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/setup/options',
    access: 'public',
    tag: 'setup',
    summary: 'Choices offered by the setup wizard: time zones, domain modes, store services',
    response: z.object({
      timezones: z.array(z.string()),
      domain_modes: z.array(z.string()),
      services: z.array(z.string()),
    }),
    handler: () => ({
      timezones: timezones(),
      domain_modes: ['local', 'pic_ngo', 'custom'],
      services: [...STORE_SERVICE_IDS],
    }),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/setup/complete',
    access: 'public',
    tag: 'setup',
    summary: 'Complete first-run setup with the one-time setup token; creates the admin and logs in',
    body: setupInputSchema,
    status: 201,
    response: z.object({
      completed: z.literal(true),
      username: z.string(),
      role: z.string(),
      csrf_token: z.string(),
    }),
    handler: async ({ deps, body, source, req, reply }) => {
      const userId = await deps.setup.complete(body, source);
      const { id, csrfToken } = deps.sessions.create(userId, source);
      setSessionCookie(req, reply, id);
      req.picSession = deps.sessions.resolve(id); // the audit row names the new admin
      req.auditTarget = `cell=${body.cell_name}`;
      return { completed: true as const, username: 'admin', role: 'admin', csrf_token: csrfToken };
    },
  }),
];
