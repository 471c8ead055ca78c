// The BlocklistFetcher on node's fetch: GET only, a time limit over the whole transfer, the body cut
// at BLOCKLIST_MAX_BYTES (an announced larger Content-Length is refused before reading), and
// redirects followed by hand (at most 5), each target checked again: http or https, no credentials.
// Errors are short reasons (an HTTP status, a network error code), never fetch's own message.
import type { BlocklistFetcher } from '../../core/ports/blocklist-fetcher.ts';
import { BLOCKLIST_MAX_BYTES, blocklistUrl } from '../../schema/blocklists.ts';
import { readCapped } from './read-capped.ts';

export interface BlocklistFetcherOptions {
  timeoutMs?: number;
  maxBytes?: number;
}

const MAX_REDIRECTS = 5;

const mb = (n: number) => `${Math.round(n / 1024 / 1024)} MB`;

function failure(err: unknown, max: number): Error {
  const e = err as { name?: string; message?: string; cause?: { code?: unknown } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return new Error('the request timed out');
  if (e.name === 'ListError') return new Error(e.message);
  if (e.name === 'BodyTooLarge') return new Error(`the list is larger than ${mb(max)}`);
  const code =
    typeof e.cause?.code === 'string' && /^[A-Z_0-9]{2,40}$/.test(e.cause.code) ? e.cause.code : '';
  return new Error(code ? `the request failed (${code})` : 'the request failed');
}

class ListError extends Error {
  override name = 'ListError';
}

export function blocklistFetcher(opts: BlocklistFetcherOptions = {}): BlocklistFetcher {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const max = opts.maxBytes ?? BLOCKLIST_MAX_BYTES;
  return {
    async fetch(url) {
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        let target = url;
        for (let hop = 0; ; hop++) {
          if (!blocklistUrl.safeParse(target).success)
            throw new ListError('a redirect to a URL that is not plain http(s) was refused');
          const res = await fetch(target, {
            method: 'GET',
            headers: { accept: 'text/plain, */*' },
            redirect: 'manual',
            signal,
          });
          if (res.status >= 300 && res.status < 400) {
            await res.body?.cancel();
            const location = res.headers.get('location');
            if (!location) throw new ListError(`HTTP ${res.status} without a Location`);
            if (hop >= MAX_REDIRECTS) throw new ListError('too many redirects');
            target = new URL(location, target).toString();
            continue;
          }
          if (res.status !== 200) {
            await res.body?.cancel();
            throw new ListError(`HTTP ${res.status}`);
          }
          return await readCapped(res, max, 'throw');
        }
      } catch (err) {
        throw failure(err, max);
      }
    },
  };
}
