import { z } from 'zod';
import { serviceHealthSchema } from '../../schema/containers.ts';
import { ADMIN, defineRoute } from '../route.ts';

export const serviceRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/services/status',
    access: ADMIN,
    tag: 'services',
    summary: 'State of each core service: running, since when, last error',
    response: z.object({
      data_plane: z.enum(['running', 'not_running']),
      services: z.array(serviceHealthSchema),
    }),
    handler: async ({ deps }) => {
      const running = await deps.dataPlane.running();
      return {
        data_plane: running ? ('running' as const) : ('not_running' as const),
        services: await deps.health.services(),
      };
    },
  }),
];
