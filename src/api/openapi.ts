// The OpenAPI 3.1 document, derived from the route definitions (the same zod schemas that validate
// requests), served at /api/openapi.json and used to generate the UI's typed client.
import { z } from 'zod';
import type { RouteDef } from './route.ts';

type Json = Record<string, unknown>;

const toSchema = (s: z.ZodType, io: 'input' | 'output'): Json =>
  z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;

const errorSchema = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    fields: {
      type: 'array',
      items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
  required: ['error'],
};

export function openApiDocument(routes: readonly RouteDef[], version: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const parameters: Json[] = [];
    for (const [where, schema] of [
      ['path', r.params],
      ['query', r.query],
    ] as const) {
      if (!schema) continue;
      const js = toSchema(schema, 'input') as { properties?: Record<string, Json>; required?: string[] };
      for (const [name, prop] of Object.entries(js.properties ?? {})) {
        parameters.push({
          name,
          in: where,
          required: where === 'path' || (js.required ?? []).includes(name),
          schema: prop,
        });
      }
    }
    const status = String(r.status ?? 200);
    const op: Json = {
      operationId: `${r.method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      summary: r.summary,
      tags: [r.tag],
      'x-access': r.access === 'public' ? 'public' : [...r.access],
      parameters,
      responses: {
        // 204: no body at all (a client must not try to parse one).
        [status]: {
          description: 'Success',
          ...(status === '204'
            ? {}
            : {
                content: { 'application/json': { schema: r.response ? toSchema(r.response, 'output') : {} } },
              }),
        },
        default: {
          description: 'Error',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    };
    if (r.rawBody)
      op.requestBody = {
        required: true,
        content: {
          'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
          'text/plain': { schema: { type: 'string' } },
        },
      };
    else if (r.body)
      op.requestBody = {
        required: true,
        content: { 'application/json': { schema: toSchema(r.body, 'input') } },
      };
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'PIC — Personal Internet Cell API', version },
    paths,
    components: { schemas: { Error: errorSchema } },
  };
}
