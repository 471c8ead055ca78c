// The StoreIndexFetcher on node's fetch: GET only, a time limit over the whole transfer, the body
// refused past maxBytes (an announced larger Content-Length before reading), redirects followed by
// hand and only on the same origin (scheme, host, port), a few at most: the owner named one server,
// and an answer from it must not send the cell to another. No cookies, no credentials.
import type { StoreIndexFetcher } from '../../core/ports/store-index.ts';
import { BodyTooLarge, readCapped } from './read-capped.ts';

export interface StoreIndexFetcherOptions {
  timeoutMs?: number;
  maxBytes?: number;
}

export const STORE_INDEX_MAX_BYTES = 1024 * 1024;
const MAX_REDIRECTS = 3;

class IndexError extends Error {
  override name = 'IndexError';
}

function failure(err: unknown, max: number): Error {
  const e = err as { name?: string; message?: string; cause?: { code?: unknown } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError')
    return new Error('the index did not answer in time');
  if (err instanceof IndexError) return err;
  if (err instanceof BodyTooLarge) return new Error(`the index is larger than ${max} bytes`);
  const code =
    typeof e.cause?.code === 'string' && /^[A-Z_0-9]{2,40}$/.test(e.cause.code) ? ` (${e.cause.code})` : '';
  return new Error(`the index is unreachable${code}`);
}

export function storeIndexFetcher(opts: StoreIndexFetcherOptions = {}): StoreIndexFetcher {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const max = opts.maxBytes ?? STORE_INDEX_MAX_BYTES;
  return {
    async fetch(url) {
      const first = new URL(url);
      const signal = AbortSignal.timeout(timeoutMs);
      let text: string;
      try {
        let current = first;
        for (let hop = 0; ; hop++) {
          const res = await fetch(current, {
            method: 'GET',
            headers: { accept: 'application/json' },
            redirect: 'manual',
            signal,
          });
          if (res.status >= 300 && res.status < 400) {
            await res.body?.cancel();
            const location = res.headers.get('location');
            const next = location ? new URL(location, current) : undefined;
            if (!next || next.origin !== first.origin)
              throw new IndexError('the index redirected to another origin; not followed');
            if (hop >= MAX_REDIRECTS) throw new IndexError('too many redirects');
            current = next;
            continue;
          }
          if (res.status !== 200) {
            await res.body?.cancel();
            throw new IndexError(`the index answered HTTP ${res.status}`);
          }
          text = await readCapped(res, max, 'throw');
          break;
        }
      } catch (err) {
        throw failure(err, max);
      }
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new Error('the index is not JSON');
      }
    },
  };
}
