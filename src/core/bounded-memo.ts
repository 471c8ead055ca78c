// Remembers a pure function's answers for the strings it was last asked about, for work done on every
// request with the same few inputs (the request line's path, the session cookie's hash). Bounded: at
// `max` entries it starts again empty, and keys longer than `maxKeyLength` are never kept, so a client
// sending endless distinct or huge values costs memory no more than `max × maxKeyLength`.
export function boundedMemo<R>(
  fn: (key: string) => R,
  { max = 1000, maxKeyLength = 512 }: { max?: number; maxKeyLength?: number } = {},
): (key: string) => R {
  const seen = new Map<string, R>();
  return (key) => {
    let r = seen.get(key);
    if (r !== undefined || seen.has(key)) return r as R;
    r = fn(key);
    if (key.length <= maxKeyLength) {
      if (seen.size >= max) seen.clear();
      seen.set(key, r);
    }
    return r;
  };
}
