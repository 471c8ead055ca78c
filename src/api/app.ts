// buildApp(deps) assembles the Fastify instance; listen() lives in the CLI. Order of checks on every
// request: security headers → Host allow-list → setup gate (428) → session → route access → CSRF and
// Origin → body schema → handler → audit row.

import { timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Session } from '../core/auth/sessions.ts';
import { AppError } from '../core/errors.ts';
import type { AppDeps } from './deps.ts';
import { sendError, toAppError } from './errors.ts';
import {
  allowedBeforeSetup,
  csrfExempt,
  hostAllowed,
  isApiPath,
  normalizePath,
  originAllowed,
  readCookie,
  SECURITY_HEADERS,
  SESSION_COOKIE_HTTP,
  SESSION_COOKIE_HTTPS,
} from './http-policy.ts';
import { registerRoutes } from './register.ts';
import type { Access, RouteDef } from './route.ts';
import { allRoutes } from './routes/index.ts';

declare module 'fastify' {
  interface FastifyRequest {
    picPath: string;
    picSession: Session | undefined;
    auditTarget: string | undefined;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}

export interface AppOptions {
  /** Built UI (web/dist); served on the same origin when present. */
  webRoot?: string | undefined;
  /** Socket addresses whose X-Forwarded-For/-Proto are believed (the cell's Caddy). Nothing else is. */
  trustedProxies?: readonly string[];
  /** Extra host names the cell answers to, besides IPs, localhost and its domain. */
  allowedHosts?: readonly string[];
  bodyLimit?: number;
  logger?: boolean;
  routes?: readonly RouteDef[];
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export async function buildApp(deps: AppDeps, opts: AppOptions = {}): Promise<FastifyInstance> {
  const trusted = new Set(opts.trustedProxies ?? []);
  const app = Fastify({
    logger: false,
    bodyLimit: opts.bodyLimit ?? 64 * 1024,
    trustProxy: (address: string) => trusted.has(address),
    return503OnClosing: true,
    routerOptions: { maxParamLength: 200 },
  });
  const log = deps.logs.get('api');

  // JSON only: every other body type answers 415 (no form posts, no text/plain CSRF).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: opts.bodyLimit ?? 64 * 1024 },
    (_req, body, done) => {
      if (body === '') return done(null, undefined);
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(new AppError('invalid_json', 'Request body is not valid JSON'), undefined);
      }
    },
  );

  app.decorateRequest('picPath', '');
  app.decorateRequest('picSession', undefined);
  app.decorateRequest('auditTarget', undefined);

  app.addHook('onRequest', async (req, reply) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    req.picPath = normalizePath(req.url);
    const api = isApiPath(req.picPath);
    if (api) reply.header('cache-control', 'no-store');
    if (api && !hostAllowed(req.headers.host, deps.config.get().identity.domain, opts.allowedHosts)) {
      throw new AppError('invalid_host', 'Host header is not a name of this cell');
    }
    if (!allowedBeforeSetup(req.picPath) && !deps.setup.isCompleted()) {
      return reply.code(428).send({ error: 'setup_required', redirect: '/setup' });
    }
    const cookie = req.headers.cookie;
    const raw = readCookie(cookie, SESSION_COOKIE_HTTPS) ?? readCookie(cookie, SESSION_COOKIE_HTTP);
    req.picSession = raw ? deps.sessions.resolve(raw) : undefined;
  });

  app.addHook('preHandler', async (req) => {
    const access = req.routeOptions.config.access;
    if (access === undefined) throw new AppError('forbidden', 'Route has no access rule');
    if (access !== 'public') {
      if (!req.picSession) throw new AppError('unauthorized', 'Log in first');
      if (!access.includes(req.picSession.role)) throw new AppError('forbidden', 'Your role may not do this');
    }
    if (STATE_CHANGING.has(req.method) && isApiPath(req.picPath)) {
      if (!originAllowed(req.headers.origin, req.headers.host)) {
        throw new AppError('csrf_failed', 'Cross-origin request refused');
      }
      if (req.picSession && !csrfExempt(req.picPath) && !csrfMatches(req, req.picSession)) {
        throw new AppError('csrf_failed', 'Missing or wrong X-CSRF-Token header');
      }
    }
  });

  app.addHook('onResponse', async (req, reply) => {
    // Method, normalised path and status only: headers and bodies may hold secrets.
    log.info(
      {
        method: req.method,
        path: req.picPath,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        source: req.ip,
      },
      'request',
    );
    if (!STATE_CHANGING.has(req.method) || !isApiPath(req.picPath)) return;
    const status = reply.statusCode;
    try {
      deps.audit.append({
        ts: new Date().toISOString(),
        username: req.picSession?.username ?? null,
        role: req.picSession?.role ?? null,
        source: req.ip,
        action: `${req.method} ${req.routeOptions.url ?? req.picPath}`,
        target: req.auditTarget ?? targetFromParams(req.params),
        outcome:
          status < 400
            ? 'success'
            : status === 401 || status === 403 || status === 428
              ? 'denied'
              : 'failure',
        status,
        detail: null,
      });
    } catch (err) {
      log.error({ err: (err as Error).message }, 'audit write failed');
    }
  });

  app.setErrorHandler((err, req, reply) => {
    const appErr = toAppError(err);
    if (appErr.code === 'internal')
      log.error(
        { err: (err as Error).message, stack: (err as Error).stack, url: req.picPath },
        'unhandled error',
      );
    sendError(reply, appErr);
  });

  app.setNotFoundHandler((req, reply) => {
    if (isApiPath(req.picPath) || req.method !== 'GET' || !opts.webRoot) {
      return sendError(reply, new AppError('not_found', `No route for ${req.method} ${req.picPath}`));
    }
    return reply.type('text/html').sendFile('index.html');
  });

  if (opts.webRoot && existsSync(opts.webRoot)) {
    await app.register(fastifyStatic, { root: opts.webRoot, serve: false });
    app.route({
      method: 'GET',
      url: '/*',
      config: { access: 'public' },
      handler: (req, reply) => {
        const rel = req.picPath.slice(1);
        if (rel && !rel.includes('..') && existsSync(`${opts.webRoot}/${rel}`) && /\.[a-z0-9]+$/.test(rel)) {
          if (rel.startsWith('assets/')) reply.header('cache-control', 'public, max-age=31536000, immutable');
          return reply.sendFile(rel);
        }
        return reply.type('text/html').header('cache-control', 'no-cache').sendFile('index.html');
      },
    });
  } else if (!opts.webRoot) {
    app.decorateReply('sendFile', function () {
      return this.code(404).send({ error: 'not_found', message: 'The web UI is not built' });
    });
  }

  registerRoutes(app, deps, opts.routes ?? allRoutes);
  return app;
}

function csrfMatches(req: FastifyRequest, session: Session): boolean {
  const header = req.headers['x-csrf-token'];
  if (typeof header !== 'string' || header.length === 0 || header.length > 256) return false;
  const a = Buffer.from(header);
  const b = Buffer.from(session.csrfToken);
  return a.length === b.length && timingSafeEqual(a, b);
}

function targetFromParams(params: unknown): string | null {
  if (!params || typeof params !== 'object') return null;
  const values = Object.entries(params as Record<string, unknown>)
    .filter(([k]) => k !== '*')
    .map(([k, v]) => `${k}=${String(v).slice(0, 100)}`);
  return values.length ? values.join(' ') : null;
}
