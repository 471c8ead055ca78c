// Name lookups for the endpoint warnings: the system resolver (getaddrinfo, so /etc/hosts first),
// IPv4 only, bounded in time and remembered for a minute, as the WireGuard page and the Dashboard
// ask for the status every few seconds.
import { lookup } from 'node:dns/promises';

const TTL_MS = 60_000;
const TIMEOUT_MS = 2_000;

export function cachedResolver(
  now: () => number = Date.now,
): (name: string) => Promise<string[] | undefined> {
  const cache = new Map<string, { at: number; value: Promise<string[] | undefined> }>();
  return (name) => {
    const hit = cache.get(name);
    if (hit && now() - hit.at < TTL_MS) return hit.value;
    const value = Promise.race([
      lookup(name, { all: true, family: 4 }).then(
        (r) => r.map((a) => a.address),
        () => undefined,
      ),
      // unref: a pending lookup never keeps a short-lived command alive.
      new Promise<undefined>((resolve) => {
        setTimeout(() => resolve(undefined), TIMEOUT_MS).unref();
      }),
    ]);
    if (cache.size > 100) cache.clear();
    cache.set(name, { at: now(), value });
    return value;
  };
}
