// Prometheus metrics: GET /metrics in the text format, only with the scrape token (Authorization:
// Bearer); the token is created by the owner (shown once, stored hashed, a new one replaces the old).
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { ADMIN, defineRoute } from '../route.ts';

const tokenStatus = z.object({ configured: z.boolean(), created_at: z.string().nullable() });

export const metricsRoutes = [
  defineRoute({
    method: 'GET',
    url: '/metrics',
    // Public to the session layer: the bearer token below is the credential (Prometheus has no session).
    access: 'public',
    tag: 'metrics',
    summary: 'Metrics in the Prometheus text format (Authorization: Bearer <metrics token>)',
    handler: async ({ deps, req, reply }) => {
      if (!deps.metricsTokens.verify(req.headers.authorization)) {
        reply.header('www-authenticate', 'Bearer realm="pic-metrics"');
        throw new AppError('unauthorized', 'A valid metrics token is required (Authorization: Bearer)');
      }
      const { contentType, body } = await deps.metrics.exposition();
      return reply.header('content-type', contentType).header('cache-control', 'no-store').send(body);
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/metrics/token',
    access: ADMIN,
    tag: 'metrics',
    summary: 'Whether a metrics token exists and when it was created (never the token)',
    response: tokenStatus,
    handler: ({ deps }) => deps.metricsTokens.status(),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/metrics/token',
    access: ADMIN,
    tag: 'metrics',
    summary: 'Create the metrics token (shown once; replaces any previous token)',
    status: 201,
    response: z.object({ token: z.string(), created_at: z.string() }),
    handler: ({ deps }) => deps.metricsTokens.create(),
  }),
];
