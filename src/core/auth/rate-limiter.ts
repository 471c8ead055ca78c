// Fixed-window attempt counter keyed by an arbitrary string (source address, account). In memory:
// limits reset when the API restarts, which is acceptable for throttling online guessing.
//
// Attempts are *reserved* before the slow check (Argon2) starts and released when it succeeds: a
// check-then-count limiter lets a burst of concurrent requests all pass the check before the first
// failure is counted. reserve() checks and counts in one synchronous step, so whatever the
// concurrency, at most `max` attempts are ever checked per key and window.

export interface RateLimitRule {
  max: number;
  windowMs: number;
}

export class RateLimiter {
  readonly #rule: RateLimitRule;
  readonly #hits = new Map<string, { count: number; resetAt: number }>();
  readonly #now: () => number;

  constructor(rule: RateLimitRule, now: () => number = Date.now) {
    this.#rule = rule;
    this.#now = now;
  }

  /** Seconds until the key may try again, or 0 when it may try now. */
  retryAfter(key: string): number {
    const entry = this.#hits.get(key);
    const now = this.#now();
    if (!entry || entry.resetAt <= now) return 0;
    return entry.count >= this.#rule.max ? Math.ceil((entry.resetAt - now) / 1000) : 0;
  }

  /**
   * Counts an attempt now if the key may try: 0 when reserved, else the seconds to wait (nothing
   * counted). Pair a reservation with release() when the attempt turns out not to be a failure.
   */
  reserve(key: string): number {
    const wait = this.retryAfter(key);
    if (wait > 0) return wait;
    this.hit(key);
    return 0;
  }

  /** Gives back one reserved attempt (the attempt succeeded); no-op once its window has ended. */
  release(key: string): void {
    const entry = this.#hits.get(key);
    if (entry && entry.resetAt > this.#now() && entry.count > 0) entry.count--;
  }

  hit(key: string): void {
    const now = this.#now();
    const entry = this.#hits.get(key);
    if (!entry || entry.resetAt <= now) this.#hits.set(key, { count: 1, resetAt: now + this.#rule.windowMs });
    else entry.count++;
    if (this.#hits.size > 10_000) this.#prune(now);
  }

  reset(key: string): void {
    this.#hits.delete(key);
  }

  /** Forgets every key that starts with `prefix`. */
  resetPrefix(prefix: string): void {
    for (const k of this.#hits.keys()) if (k.startsWith(prefix)) this.#hits.delete(k);
  }

  #prune(now: number): void {
    for (const [k, v] of this.#hits) if (v.resetAt <= now) this.#hits.delete(k);
  }
}
