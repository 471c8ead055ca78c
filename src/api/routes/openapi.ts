import { z } from 'zod';
import { openApiDocument } from '../openapi.ts';
import { defineRoute, type RouteDef } from '../route.ts';

let cached: unknown;

export const openApiRoutes: RouteDef[] = [
  defineRoute({
    method: 'GET',
    url: '/api/openapi.json',
    access: 'public',
    tag: 'meta',
    summary: 'This API as an OpenAPI 3.1 document',
    response: z.record(z.string(), z.unknown()),
    handler: async ({ deps }) => {
      const { allRoutes } = await import('./index.ts');
      cached ??= openApiDocument(allRoutes, deps.version);
      return cached;
    },
  }),
];
