// Turns RouteDefs into Fastify routes: parse params, query and body with their zod schemas (a 400
// names each bad or unknown field), call the handler, send its result with the declared status.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { AppError } from '../core/errors.ts';
import type { AppDeps } from './deps.ts';
import { zodFields } from './errors.ts';
import type { RouteDef } from './route.ts';

function parseWith(schema: z.ZodType | undefined, value: unknown, prefix: string): unknown {
  if (!schema) return value;
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const fields = zodFields(r.error, prefix === 'body' ? '' : prefix);
  throw new AppError('validation_failed', `Invalid ${fields.map((f) => f.field).join(', ')}`, { fields });
}

export function registerRoutes(app: FastifyInstance, deps: AppDeps, routes: readonly RouteDef[]): void {
  const seen = new Set<string>();
  for (const def of routes) {
    const key = `${def.method} ${def.url}`;
    if (seen.has(key)) throw new Error(`route ${key} is defined twice`);
    seen.add(key);
    app.route({
      method: def.method,
      url: def.url,
      // A GET that hands out a secret gets no automatic HEAD: a HEAD (a link previewer's, a
      // download manager's probe) would run the handler and spend a one-time link unseen.
      ...(def.auditRead ? { exposeHeadRoute: false } : {}),
      config: {
        access: def.access,
        ...(def.auditRead ? { auditRead: true } : {}),
        ...(def.whileDisabled ? { whileDisabled: true } : {}),
        ...(def.rawBody ? { rawBody: true } : {}),
        ...(def.rawBody?.stream ? { rawStream: true } : {}),
      },
      ...(def.rawBody
        ? {
            bodyLimit: def.rawBody.maxBytes,
            // A large body is read only for a session that may send it: the role check of the
            // preHandler runs after parsing, so it is made here too, before.
            preParsing: (req, _reply, payload, done) => {
              const access = def.access;
              if (access !== 'public') {
                if (!req.picSession) return done(new AppError('unauthorized', 'Log in first'));
                if (!access.includes(req.picSession.role))
                  return done(new AppError('forbidden', 'Your role may not do this'));
              }
              done(null, payload);
            },
          }
        : {}),
      handler: async (req, reply) => {
        // Query first: a bad query is reported even when a path parameter is also wrong.
        const query = parseWith(def.query, req.query, 'query');
        const params = parseWith(def.params, req.params, 'params');
        let body: unknown = req.body;
        if (def.rawBody?.stream) {
          if (!(body instanceof Readable))
            throw new AppError('unsupported_media_type', 'Send the file as application/octet-stream');
        } else if (def.rawBody) {
          if (!Buffer.isBuffer(body))
            throw new AppError(
              'unsupported_media_type',
              'Send the file as application/octet-stream or text/plain',
            );
        } else if (def.body)
          body = parseWith(def.body, body === undefined ? {} : body, 'body'); // JSON null is a bad body
        else if (
          body !== undefined &&
          // Only `{}` counts as no body: `[]`, `null`, `""` and `0` are bodies of the wrong shape.
          !(
            typeof body === 'object' &&
            body !== null &&
            !Array.isArray(body) &&
            Object.keys(body).length === 0
          )
        ) {
          throw new AppError('validation_failed', 'This request takes no body', {
            fields: [{ field: '(body)', message: 'must be empty' }],
          });
        }
        const result = await def.handler({
          body,
          query,
          params,
          session: req.picSession,
          deps,
          req,
          reply,
          source: req.picSource,
        } as never);
        if (reply.sent) return reply;
        if (def.status && reply.statusCode === 200) reply.code(def.status);
        if (result === undefined) return reply.code(reply.statusCode === 200 ? 204 : reply.statusCode).send();
        return result;
      },
    });
  }
}
