// buildApp(deps) assembles the Fastify instance; listen() lives in the CLI. Order of checks on every
// request: security headers → Host allow-list → setup gate (428) → session → route access → CSRF and
// Origin → body schema → handler → audit row.

import { timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import fastifyStatic from '@fastify/static';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RouteOptions,
} from 'fastify';
import type { Session } from '../core/auth/sessions.ts';
import { AppError } from '../core/errors.ts';
import { SECURITY_HEADERS } from '../schema/security-headers.ts';
import { canonicalUrl } from './canonical-url.ts';
import type { AppDeps } from './deps.ts';
import { sendError, toAppError } from './errors.ts';
import {
  API_HEADERS,
  allowedBeforeSetup,
  csrfExempt,
  hostAllowed,
  originAllowed,
  readCookie,
  readPath,
  SESSION_COOKIE_HTTP,
  SESSION_COOKIE_HTTPS,
} from './http-policy.ts';
import { registerRoutes } from './register.ts';
import type { Access, RouteDef } from './route.ts';
import { allRoutes } from './routes/index.ts';

declare module 'fastify' {
  interface FastifyRequest {
    picPath: string;
    /** The path reaches the API under some reading of it (see touchesApi). */
    picApi: boolean;
    picSession: Session | undefined;
    auditTarget: string | undefined;
    /** The code of the error this request was answered with, if any (metrics read it). */
    picError: string | undefined;
    /** The client's address for limits, logs and audit rows (a VPN peer's own address; see AppDeps). */
    picSource: string;
    /**
     * The matched route's pattern and config, read once: Fastify's `routeOptions` getter builds a new
     * frozen object on every access, and the hooks would read it seven times a request.
     */
    picRoute: { url: string | undefined; config: FastifyContextConfig };
  }
  interface FastifyContextConfig {
    access?: Access;
    /** A GET that hands out a secret (a peer's config): audited like a state change. */
    auditRead?: boolean;
    /** A disabled peer's session may call it (see RouteDef.whileDisabled). */
    whileDisabled?: boolean;
    /** The route takes a raw file body (see RouteDef.rawBody). */
    rawBody?: boolean;
    /** ...handed to it as the request stream, not a Buffer (RouteDef.rawBody.stream). */
    rawStream?: boolean;
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
  /** Called for every route registered (an onRoute hook added before any route); tests use it. */
  onRoute?: (route: RouteOptions) => void;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Set by rewriteUrl on a raw request whose URL has no single reading; the first hook answers 400. */
const BAD_URL = Symbol('pic.badUrl');
type RawWithMark = { url?: string; [BAD_URL]?: string };

export async function buildApp(deps: AppDeps, opts: AppOptions = {}): Promise<FastifyInstance> {
  const trusted = new Set(opts.trustedProxies ?? []);
  const app = Fastify({
    logger: false,
    bodyLimit: opts.bodyLimit ?? 64 * 1024,
    // A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d; the list names plain addresses.
    trustProxy: (address: string) => trusted.has(address.replace(/^::ffff:/, '')),
    return503OnClosing: true,
    routerOptions: { maxParamLength: 200 },
    // The router and every policy hook read the same canonical URL (see canonical-url.ts).
    rewriteUrl: (raw) => {
      const c = canonicalUrl(raw.url ?? '');
      if (c.ok) return c.url;
      (raw as RawWithMark)[BAD_URL] = c.reason;
      return '/';
    },
    // A URL the router cannot decode (`/api/%zz`) or a too-long parameter: our error shape, not Fastify's.
    frameworkErrors: (err, _req, reply) => {
      reply.headers(SECURITY_HEADERS);
      sendError(
        reply,
        new AppError('bad_request', err.code === 'FST_ERR_BAD_URL' ? 'Malformed URL' : 'Bad request'),
      );
    },
  });
  const log = deps.logs.get('api');
  // The domain is read on every API request (Host check): keep it instead of cloning the config each time.
  let cellDomain = deps.config.get().identity.domain;
  deps.config.onChange((c) => {
    cellDomain = c.identity.domain;
  });
  if (opts.onRoute) app.addHook('onRoute', opts.onRoute);

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

  // Raw files, only for the routes that take one (RouteDef.rawBody, e.g. a blocklist upload): every
  // other route still answers 415. A cross-site form cannot add the CSRF header these routes need.
  // A streamed route (a backup upload of gigabytes) gets the request stream itself; the others a
  // Buffer read here up to the route's limit.
  app.addContentTypeParser(['application/octet-stream', 'text/plain'], (req, payload, done) => {
    const config = req.routeOptions.config;
    if (config?.rawBody !== true)
      return done(
        new AppError('unsupported_media_type', 'Send the request body as application/json'),
        undefined,
      );
    const limit = req.routeOptions.bodyLimit;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit)
      return done(new AppError('payload_too_large', 'Request body is too large'), undefined);
    if (config.rawStream === true) return done(null, payload);
    const chunks: Buffer[] = [];
    let size = 0;
    payload.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        payload.destroy();
        done(new AppError('payload_too_large', 'Request body is too large'), undefined);
      } else chunks.push(c);
    });
    payload.on('end', () => {
      if (size <= limit) done(null, Buffer.concat(chunks));
    });
    payload.on('error', (err: Error) => done(err, undefined));
  });

  app.decorateRequest('picPath', '');
  app.decorateRequest('picApi', false);
  app.decorateRequest('picSession', undefined);
  app.decorateRequest('auditTarget', undefined);
  app.decorateRequest('picError', undefined);
  app.decorateRequest('picSource', '');
  app.decorateRequest('picRoute', undefined as unknown as FastifyRequest['picRoute']);

  // The three policy hooks are callback-style and synchronous (none of them awaits anything): an
  // async hook costs a promise and a microtask turn per request. A throw is caught by Fastify's hook
  // runner and answered by the error handler, as a rejected promise was.
  app.addHook('onRequest', (req, reply, done) => {
    req.picSource = deps.clientAddress(req.ip);
    const { url: routeUrl, config: routeConfig } = req.routeOptions;
    req.picRoute = { url: routeUrl, config: routeConfig };
    const bad = (req.raw as RawWithMark)[BAD_URL];
    if (bad !== undefined) {
      req.picPath = '/';
      reply.headers(API_HEADERS);
      throw new AppError('bad_request', `Malformed request target: ${bad}`);
    }
    const { path, api } = readPath(req.url);
    req.picPath = path;
    req.picApi = api;
    // One object, set once: the security headers on every answer, `no-store` on the API's.
    reply.headers(api ? API_HEADERS : SECURITY_HEADERS);
    if (api && !hostAllowed(req.headers.host, cellDomain, opts.allowedHosts)) {
      throw new AppError('invalid_host', 'Host header is not a name of this cell');
    }
    // Open before setup only when both the normalised path and the route the router picked are on the
    // allow-list: a parameter such as `..%2fsetup%2fstatus` must not carry another route through.
    const open = allowedBeforeSetup(path) && (routeUrl === undefined || allowedBeforeSetup(routeUrl));
    if (api && !open && !deps.setup.isCompleted()) {
      reply.code(428).send({ error: 'setup_required', redirect: '/setup' });
      return; // answered: the lifecycle stops here (done is not called)
    }
    const cookie = req.headers.cookie;
    // Over HTTPS only the __Host- cookie counts: a store service on a sibling name (calendar.<domain>)
    // can set a plain `pic_session` for the parent domain, but never a __Host- one (cookie tossing).
    const raw =
      req.protocol === 'https'
        ? readCookie(cookie, SESSION_COOKIE_HTTPS)
        : (readCookie(cookie, SESSION_COOKIE_HTTPS) ?? readCookie(cookie, SESSION_COOKIE_HTTP));
    req.picSession = raw ? deps.sessions.resolve(raw) : undefined;
    done();
  });

  app.addHook('preHandler', (req, _reply, done) => {
    if (req.is404) return done(); // the not-found handler answers 404 whatever the session
    const access = req.picRoute.config.access;
    if (access === undefined) throw new AppError('forbidden', 'Route has no access rule');
    if (access !== 'public') {
      if (!req.picSession) throw new AppError('unauthorized', 'Log in first');
      if (!access.includes(req.picSession.role)) throw new AppError('forbidden', 'Your role may not do this');
      // Checked on every request: disabling a peer stops its open sessions at once.
      if (req.picSession.disabled && req.picRoute.config.whileDisabled !== true)
        throw new AppError('peer_disabled', "Your peer is disabled; ask the cell's owner to enable it");
    }
    if (STATE_CHANGING.has(req.method) && req.picApi) {
      if (!originAllowed(req.headers.origin, req.headers.host)) {
        throw new AppError('csrf_failed', 'Cross-origin request refused');
      }
      // Exempt only when the route itself is under auth/ or setup/, not a path that normalises there.
      const exempt = csrfExempt(req.picPath) && csrfExempt(req.picRoute.url ?? '');
      if (req.picSession && !exempt && !csrfMatches(req, req.picSession)) {
        throw new AppError('csrf_failed', 'Missing or wrong X-CSRF-Token header');
      }
    }
    done();
  });

  const afterResponse = (req: FastifyRequest, reply: FastifyReply) => {
    // Method, normalised path and status only: headers and bodies may hold secrets.
    deps.logs.request('api', {
      method: req.method,
      // The route pattern when one matched: a path can hold a credential (a config-link token).
      path: req.picRoute?.url ?? req.picPath,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
      source: req.picSource,
    });
    const route = req.picRoute?.url;
    deps.metrics.observeHttp(route ?? 'unmatched', req.method, reply.statusCode, reply.elapsedTime / 1000);
    // The first step of a two-factor login (right password, code asked for) is not a failure.
    if (route === '/api/auth/login' && reply.statusCode === 401 && req.picError !== 'totp_required')
      deps.metrics.loginFailed();
    const secretRead = req.picRoute?.config.auditRead === true;
    if (!(STATE_CHANGING.has(req.method) || secretRead) || !req.picApi) return;
    const status = reply.statusCode;
    const outcome =
      status < 400
        ? 'success'
        : status === 401 || status === 403 || status === 428 || status === 429
          ? 'denied'
          : 'failure';
    // The route pattern, never the raw path: bounded, and no user data in the action.
    const action = `${req.method} ${route ?? '(unmatched)'}`;
    const target = req.auditTarget ?? targetFromParams(req.params);
    try {
      // Nobody to attribute it to (no session before or after the handler): noise anyone can make,
      // counted per source and minute apart from the trail. A secret handed out is always a row.
      if (!req.picSession && !(secretRead && outcome === 'success'))
        deps.audit.refusal({ source: req.picSource, action, status, target });
      else
        deps.audit.record({
          username: req.picSession?.username ?? null,
          role: req.picSession?.role ?? null,
          source: req.picSource,
          action,
          target,
          outcome,
          status,
        });
    } catch (err) {
      log.error({ err: (err as Error).message }, 'audit write failed');
    }
  };
  app.addHook('onResponse', (req, reply, done) => {
    afterResponse(req, reply); // a throw goes to Fastify's hook runner, which logs it
    done();
  });

  app.setErrorHandler((err, req, reply) => {
    const appErr = toAppError(err);
    if (appErr.code === 'internal')
      log.error(
        { err: (err as Error).message, stack: (err as Error).stack, url: req.picPath },
        'unhandled error',
      );
    else if (appErr.status >= 500) {
      // The answer says what failed in general terms; the cause goes to the log for the owner.
      const cause = appErr.cause instanceof Error ? appErr.cause : undefined;
      log.error(
        { code: appErr.code, cause: cause?.message, stack: cause?.stack, url: req.picPath },
        appErr.message,
      );
    }
    req.picError = appErr.code;
    sendError(reply, appErr);
  });

  const webRoot = opts.webRoot && existsSync(opts.webRoot) ? opts.webRoot : undefined;
  const notFound = (req: FastifyRequest) =>
    new AppError('not_found', `No route for ${req.method} ${req.picPath}`);

  app.setNotFoundHandler((req, reply) => {
    if (req.picApi || req.method !== 'GET' || !webRoot) return sendError(reply, notFound(req));
    return reply.type('text/html').sendFile('index.html');
  });

  if (webRoot) {
    // cacheControl off: the handler below sets it (immutable hashed assets, no-cache index.html).
    await app.register(fastifyStatic, { root: webRoot, serve: false, cacheControl: false });
    app.route({
      method: 'GET',
      url: '/*',
      config: { access: 'public' },
      handler: (req, reply) => {
        // An unknown API path is a 404 in JSON, not the UI's index.html.
        if (req.picApi) return sendError(reply, notFound(req));
        // File names keep their case (Vite's hashed asset names are mixed case): use the path as sent,
        // decoded once, and refuse anything that could leave the web root.
        const rel = staticPath(req.url);
        if (rel && existsSync(`${webRoot}/${rel}`) && /\.[A-Za-z0-9]+$/.test(rel)) {
          if (rel.startsWith('assets/')) reply.header('cache-control', 'public, max-age=31536000, immutable');
          return reply.sendFile(rel);
        }
        return reply.type('text/html').header('cache-control', 'no-cache').sendFile('index.html');
      },
    });
  }

  registerRoutes(app, deps, opts.routes ?? allRoutes);
  return app;
}

/** The file a UI path names, relative to the web root, or undefined when it is not a plain file path. */
function staticPath(url: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(url.split('?')[0] ?? '');
  } catch {
    return undefined;
  }
  const rel = path.replace(/^\/+/, '');
  if (!rel || rel.includes('\\') || rel.includes('\0') || rel.split('/').some((s) => s === '..' || s === '.'))
    return undefined;
  return rel;
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
    // A token in the path is a credential (a config link): never in the trail, even spent.
    .filter(([k]) => k !== '*' && k !== 'token')
    .map(([k, v]) => `${k}=${String(v).slice(0, 100)}`);
  return values.length ? values.join(' ') : null;
}
