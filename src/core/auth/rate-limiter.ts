// Fixed-window failure counter keyed by an arbitrary string (source address, account). In memory:
// limits reset when the API restarts, which is acceptable for throttling online guessing.

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

  #prune(now: number): void {
    for (const [k, v] of this.#hits) if (v.resetAt <= now) this.#hits.delete(k);
  }
}
