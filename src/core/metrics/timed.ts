// Apply-duration metrics without touching the use-cases: the composition root wraps the ports that
// apply rendered configuration (WireGuard + firewall, daemon configs) so every apply is observed.

/**
 * `port` with `method` reporting its duration (failed applies included) to `observe`. A Proxy that
 * calls every method on the original object: drivers keep state in private fields, which a
 * prototype-chained copy could not reach.
 */
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
  return new Proxy(port, {
    get(target, prop) {
      if (prop === method) return wrapped;
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
