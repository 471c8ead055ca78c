// The steps of bench/api/bisect.ts, cumulative, in the order a request meets pic's pieces.
export const STEPS = [
  'hello', // the reference: bare Fastify, GET /hello → {hello: 'world'}
  'me-body', // GET /api/auth/me answering a constant body of the same size as pic's (115 bytes)
  'options', // pic's Fastify options: trustProxy function, return503OnClosing, routerOptions, rewriteUrl, frameworkErrors
  'parsers', // removeAllContentTypeParsers + pic's JSON and raw parsers, the seven decorateRequest
  'cell', // createCell in the process (SQLite, pino registry, prom-client with default metrics), unused
  'headers', // onRequest: the security headers (one reply.headers), readPath, Host allow-list, setup gate
  'session', // onRequest: cookie → Sessions.resolve (SHA-256 + SQLite); the handler answers from the session
  'prehandler', // preHandler: the access rule
  'log', // onResponse: the request log line
  'metrics', // onResponse: the Prometheus histogram
  'routes', // every pic route registered through register.ts (the real handler wrapper), no own route
  'app', // the real buildApp(deps) — what `pic serve` runs
] as const;
/** Not part of the chain: the reference with a fixed CPU cost added per request (SPIN_US, default 80). */
export const EXTRA_STEPS = ['hello-spin'] as const;
export type Step = (typeof STEPS)[number] | (typeof EXTRA_STEPS)[number];
