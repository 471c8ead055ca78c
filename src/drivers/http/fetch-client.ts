// The HttpClient on node's fetch: no redirects followed (a 3xx is answered as it is), a time limit,
// the body cut at a size limit, and failures reported by their error code only — fetch's own
// messages may quote the URL, and a DDNS URL can carry a token.
import type { HttpClient } from '../../core/ports/http-client.ts';
import { readCapped } from './read-capped.ts';

export interface FetchClientOptions {
  timeoutMs?: number;
  maxBodyBytes?: number;
}

function failure(err: unknown): Error {
  const e = err as { name?: string; cause?: { code?: unknown } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return new Error('request timed out');
  const code =
    typeof e.cause?.code === 'string' && /^[A-Z_0-9]{2,40}$/.test(e.cause.code) ? e.cause.code : '';
  return new Error(code ? `request failed (${code})` : 'request failed');
}

export function fetchClient(opts: FetchClientOptions = {}): HttpClient {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const max = opts.maxBodyBytes ?? 64 * 1024;
  return {
    async send(req) {
      try {
        const res = await fetch(req.url, {
          method: req.method,
          headers: req.headers ?? {},
          ...(req.body !== undefined ? { body: req.body } : {}),
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
        const retryAfter = res.headers.get('retry-after');
        return {
          status: res.status,
          body: await readCapped(res, max, 'cut'),
          ...(retryAfter ? { retryAfter } : {}),
        };
      } catch (err) {
        throw failure(err);
      }
    },
  };
}
