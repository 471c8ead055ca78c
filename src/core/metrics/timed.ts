// Apply-duration metrics without touching the use-cases: the composition root wraps the ports that
// apply rendered configuration (WireGuard + firewall, daemon configs) so every apply is observed.

/** A copy of `port` whose `method` reports its duration (failed applies included) to `observe`. */
export function timed<T extends object, K extends keyof T>(
  port: T,
  method: K,
  observe: (seconds: number) => void,
): T {
  const original = port[method];
  if (typeof original !== 'function') throw new Error(`${String(method)} is not a method`);
  const wrapped = async (...args: unknown[]) => {
    const t0 = performance.now();
    try {
      return await original.apply(port, args);
    } finally {
      observe((performance.now() - t0) / 1000);
    }
  };
  return Object.assign(Object.create(port) as T, { [method]: wrapped });
}
