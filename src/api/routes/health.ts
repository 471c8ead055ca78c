import { z } from 'zod';
import { defineRoute } from '../route.ts';

export const healthRoutes = [
  defineRoute({
    method: 'GET',
    url: '/health',
    access: 'public',
    tag: 'health',
    summary: 'Liveness of the API and a summary of the data plane (no authentication)',
    response: z.object({
      status: z.enum(['ok', 'degraded']),
      version: z.string(),
      setup_completed: z.boolean(),
    }),
    handler: async ({ deps }) => {
      const services = await deps.health.services();
      const degraded = services.some((s) => s.state === 'unhealthy' || s.state === 'stopped');
      return {
        status: degraded ? 'degraded' : 'ok',
        version: deps.version,
        setup_completed: deps.setup.isCompleted(),
      };
    },
  }),
];
