import { z } from 'zod';
import { ADMIN, defineRoute } from '../route.ts';

export const serviceStatus = z.object({
  name: z.string(),
  state: z.enum(['running', 'stopped', 'unhealthy', 'starting', 'not_running', 'unknown']),
  since: z.string().nullable(),
  last_error: z.string().nullable(),
});

export const serviceRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/services/status',
    access: ADMIN,
    tag: 'services',
    summary: 'State of each core service: running, since when, last error',
    response: z.object({ data_plane: z.enum(['running', 'not_running']), services: z.array(serviceStatus) }),
    handler: async ({ deps }) => {
      const running = await deps.dataPlane.running();
      return {
        data_plane: running ? ('running' as const) : ('not_running' as const),
        services: await deps.health.services(),
      };
    },
  }),
];
