// The apps of the bisection by construction (bench/api/bisect.ts): a bare Fastify hello route growing
// into pic's own app, pic's pieces added one at a time in the order a request meets them (the steps in
// bisect-steps.ts). Every step answers GET /api/auth/me (the first answers GET /hello). Steps are
// cumulative: step N has every piece of steps 1..N.
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { canonicalUrl } from '../../src/api/canonical-url.ts';
import {
  API_HEADERS,
  hostAllowed,
  readCookie,
  readPath,
  SESSION_COOKIE_HTTP,
} from '../../src/api/http-policy.ts';
import { registerRoutes } from '../../src/api/register.ts';
import { allRoutes } from '../../src/api/routes/index.ts';
import type { Cell } from '../../src/composition.ts';

import { STEPS, type Step } from './bisect-steps.ts';

/** The app of one step; `cell` (a cell after setup, opened like `pic serve` does) from step `cell` on. */
export async function buildStep(stepName: Step, cell: Cell | undefined): Promise<FastifyInstance> {
  const step = (STEPS as readonly string[]).indexOf(stepName);
  const has = (s: (typeof STEPS)[number]) => step >= STEPS.indexOf(s);
  if (stepName === 'hello-spin') {
    // The reference plus SPIN_US of CPU per request: how much more than SPIN_US a request then costs is
    // what a slower server pays in the kernel for waking the load generator on every write.
    const spin = Number(process.env.SPIN_US ?? 80);
    const h = Fastify({ logger: false });
    h.get('/hello', async () => {
      const t = process.cpuUsage();
      for (;;) {
        const d = process.cpuUsage(t);
        if (d.user + d.system >= spin) break;
      }
      return { hello: 'world' };
    });
    return h;
  }
  if (stepName === 'app') {
    const { buildApp } = await import('../../src/api/app.ts');
    return buildApp(cell!.deps, {});
  }

  const a = has('options')
    ? Fastify({
        logger: false,
        bodyLimit: 64 * 1024,
        trustProxy: (address: string) => address === 'never',
        return503OnClosing: true,
        routerOptions: { maxParamLength: 200 },
        rewriteUrl: (raw) => {
          const c = canonicalUrl(raw.url ?? '');
          return c.ok ? c.url : '/';
        },
        frameworkErrors: (_err, _req, reply) => {
          (reply as unknown as FastifyReply).code(400).send({ error: 'bad_request' });
        },
      })
    : Fastify({ logger: false });

  if (has('parsers')) {
    a.removeAllContentTypeParsers();
    a.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) =>
      done(null, body === '' ? undefined : JSON.parse(body as string)),
    );
    a.addContentTypeParser(['application/octet-stream', 'text/plain'], (_req, payload, done) =>
      done(null, payload),
    );
    for (const d of ['picPath', 'picApi', 'picSession', 'auditTarget', 'picError', 'picSource', 'picRoute'])
      a.decorateRequest(d, undefined);
  }

  const deps = cell?.deps;
  if (has('headers')) {
    a.addHook('onRequest', (req, reply, done) => {
      const r = req as unknown as Record<string, unknown>;
      r.picSource = req.ip;
      const { url, config } = req.routeOptions;
      r.picRoute = { url, config };
      const { path, api } = readPath(req.url);
      r.picPath = path;
      r.picApi = api;
      reply.headers(API_HEADERS);
      if (api && !hostAllowed(req.headers.host, 'bench.local')) throw new Error('host');
      if (api && !deps!.setup.isCompleted()) throw new Error('setup');
      if (has('session')) {
        const raw = readCookie(req.headers.cookie, SESSION_COOKIE_HTTP);
        r.picSession = raw ? deps!.sessions.resolve(raw) : undefined;
      }
      done();
    });
  }
  if (has('prehandler')) {
    a.addHook('preHandler', (req, _reply, done) => {
      const s = (req as unknown as { picSession?: { role: string; disabled?: true } }).picSession;
      if (!s) throw new Error('unauthorized');
      if (!['admin', 'peer'].includes(s.role)) throw new Error('forbidden');
      done();
    });
  }
  if (has('log') || has('metrics')) {
    a.addHook('onResponse', (req, reply, done) => {
      const r = req as unknown as { picRoute?: { url?: string }; picPath: string; picSource: string };
      if (has('log'))
        deps!.logs.request('api', {
          method: req.method,
          path: r.picRoute?.url ?? r.picPath,
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime),
          source: r.picSource,
        });
      if (has('metrics'))
        deps!.metrics.observeHttp(
          r.picRoute?.url ?? 'unmatched',
          req.method,
          reply.statusCode,
          reply.elapsedTime / 1000,
        );
      done();
    });
  }

  if (has('routes')) {
    registerRoutes(a, deps!, allRoutes);
  } else if (has('session')) {
    a.get('/api/auth/me', { config: { access: ['admin', 'peer'] } } as never, async (req) => {
      const s = (
        req as unknown as {
          picSession: { username: string; role: string; csrfToken: string; totpEnabled: boolean };
        }
      ).picSession;
      return { username: s.username, role: s.role, csrf_token: s.csrfToken, totp_enabled: s.totpEnabled };
    });
  } else if (has('me-body')) {
    const body = {
      username: 'admin',
      role: 'admin',
      csrf_token: '0DNw5Ivp_2Ltz4aSlVWCd12WJy7Q6tCmOrOBeW67UbM',
      totp_enabled: false,
    };
    a.get('/api/auth/me', async () => ({ ...body }));
  } else {
    a.get('/hello', async () => ({ hello: 'world' }));
  }
  return a;
}
