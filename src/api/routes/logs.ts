import { z } from 'zod';
import { anonymousRefusalSchema, auditOutcome, auditRowSchema } from '../../schema/audit.ts';
import { LOG_SERVICES, logService } from '../../schema/config.ts';
import { logLevel } from '../../schema/fields.ts';
import { ADMIN, defineRoute } from '../route.ts';

const shortText = z.string().max(200).optional();

export const logRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/logs/audit',
    access: ADMIN,
    tag: 'logs',
    summary: 'The audit trail of state-changing requests, newest first, with filters and paging',
    query: z
      .object({
        username: shortText,
        action: shortText,
        outcome: auditOutcome.optional(),
        since: z.iso.datetime().optional(),
        until: z.iso.datetime().optional(),
        q: shortText,
        limit: z.coerce.number().int().min(1).max(500).default(50),
        offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
      })
      .strict(),
    response: z.object({ total: z.number(), items: z.array(auditRowSchema) }),
    handler: ({ deps, query }) => deps.audit.query(query),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/logs/audit/refusals',
    access: ADMIN,
    tag: 'logs',
    summary:
      'Requests refused without a session, counted per source and minute (kept apart from the audit trail)',
    query: z
      .object({
        source: shortText,
        limit: z.coerce.number().int().min(1).max(500).default(50),
        offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
      })
      .strict(),
    response: z.object({ total: z.number(), items: z.array(anonymousRefusalSchema) }),
    handler: ({ deps, query }) => deps.audit.refusals(query),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/logs',
    access: ADMIN,
    tag: 'logs',
    summary: 'Search the structured logs of every service, newest first',
    query: z
      .object({
        service: logService.optional(),
        level: logLevel.optional(),
        q: shortText,
        limit: z.coerce.number().int().min(1).max(1000).default(200),
      })
      .strict(),
    response: z.object({
      items: z.array(
        z.object({ service: z.string(), time: z.number(), level: z.string(), msg: z.string() }).loose(),
      ),
    }),
    handler: async ({ deps, query }) => ({ items: await deps.logSearch.search(query) }),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/logs/levels',
    access: ADMIN,
    tag: 'logs',
    summary: 'The log level of each service',
    response: z.object({ levels: z.record(z.string(), z.string()), services: z.array(z.string()) }),
    handler: ({ deps }) => ({ levels: deps.logs.levels(), services: [...LOG_SERVICES] }),
  }),
  defineRoute({
    method: 'PUT',
    url: '/api/logs/levels',
    access: ADMIN,
    tag: 'logs',
    summary: 'Change log levels at run time (kept in the configuration)',
    body: z.object({ levels: z.partialRecord(logService, logLevel) }).strict(),
    response: z.object({ levels: z.record(z.string(), z.string()), services: z.array(z.string()) }),
    handler: ({ deps, body }) => {
      deps.config.update({ logging: { levels: body.levels as Record<string, never> } });
      return { levels: deps.logs.levels(), services: [...LOG_SERVICES] };
    },
  }),
];
