// Login throttling that stops guessing without letting a stranger lock the owner out.
//
// Three budgets, each reserved before the password is hashed (see RateLimiter.reserve):
//  - per source (any account): 20 failures / 15 min — one address cannot spray accounts;
//  - per account and source: 5 failures / 15 min — one address cannot guess one password;
//  - per account, from everywhere: 30 failures, then that account refuses *unknown* sources for
//    15 min, doubling with each further exhaustion up to 24 h — slows a botnet without handing it
//    a lock-out.
// A source that logged in to the account before (30 days) or a peer on the cell's VPN keeps its own
// per-account-and-source budget when the global one is spent: the owner's laptop, phone on the VPN,
// or the LAN address they always use still get in while someone else guesses.
// Record of the design: docs/adr/0008-passwords-sessions-csrf.md.
import { AppError } from '../errors.ts';
import { RateLimiter } from './rate-limiter.ts';

const WINDOW = 15 * 60_000;
const KNOWN_FOR = 30 * 24 * 3600_000;
const MAX_LOCK = 24 * 3600_000;
const KNOWN_PER_ACCOUNT = 32;

export const LOGIN_LIMITS = {
  perSource: 20,
  perAccountSource: 5,
  perAccount: 30,
  windowMs: WINDOW,
} as const;

interface Budget {
  count: number;
  windowEnd: number;
  lockedUntil: number;
  strikes: number;
}

export interface LoginLimitsOptions {
  now?: () => number;
  /** Sources that keep their own budget when an account's global budget is spent (the VPN). */
  trustedSource?: (source: string) => boolean;
}

/** What a reserved attempt turns into once the password was checked. */
export interface LoginAttempt {
  succeeded(): void;
  /**
   * Gives the reservation back without counting a success: the password was right but the second
   * factor is still to come. The source is not remembered as known (that takes the code too).
   */
  giveBack(): void;
}

export class LoginLimits {
  readonly #now: () => number;
  readonly #trusted: (source: string) => boolean;
  readonly #perSource: RateLimiter;
  readonly #perAccountSource: RateLimiter;
  readonly #accounts = new Map<string, Budget>();
  /** account → source → last successful login (ms). */
  readonly #known = new Map<string, Map<string, number>>();
  /** account → a digest of its password hash, as last seen (existing accounts only: bounded). */
  readonly #stamps = new Map<string, string>();

  constructor(opts: LoginLimitsOptions = {}) {
    this.#now = opts.now ?? Date.now;
    this.#trusted = opts.trustedSource ?? (() => false);
    this.#perSource = new RateLimiter({ max: LOGIN_LIMITS.perSource, windowMs: WINDOW }, this.#now);
    this.#perAccountSource = new RateLimiter(
      { max: LOGIN_LIMITS.perAccountSource, windowMs: WINDOW },
      this.#now,
    );
  }

  /** Counts one attempt before any hashing, or throws 429 with the seconds to wait. */
  reserve(account: string, source: string): LoginAttempt {
    const pair = `${account}\n${source}`;
    const privileged = this.#isKnown(account, source) || this.#trusted(source);
    const waits = [
      this.#perSource.retryAfter(source),
      this.#perAccountSource.retryAfter(pair),
      privileged ? 0 : this.#accountWait(account),
    ];
    const wait = Math.max(...waits);
    if (wait > 0)
      throw new AppError('rate_limited', 'Too many failed logins; try again later', { retryAfter: wait });
    // Checked above and counted here in the same synchronous step: no await in between.
    this.#perSource.hit(source);
    this.#perAccountSource.hit(pair);
    this.#countAccount(account);
    return {
      succeeded: () => {
        this.#perSource.release(source);
        this.#perAccountSource.reset(pair);
        // A success gives its own reservation back but lifts no lock: the owner logging in must not
        // reopen the account to the strangers who spent its budget.
        const b = this.#accounts.get(account);
        if (b && b.count > 0) b.count--;
        this.#remember(account, source);
      },
      giveBack: () => {
        this.#perSource.release(source);
        this.#perAccountSource.release(pair);
        const b = this.#accounts.get(account);
        if (b && b.count > 0) b.count--;
      },
    };
  }

  /** Forgets every count for an account (tests, and `pic admin reset-password`). */
  /**
   * Tells the limits which credential the account has now. A different one than last time (a reset
   * by `pic admin reset-password`, which runs in another process and cannot reach this memory) ends
   * the account's lock: the guesses were against a password that no longer exists.
   */
  credentialIs(account: string, stamp: string): void {
    const prev = this.#stamps.get(account);
    if (prev !== undefined && prev !== stamp) this.forget(account);
    this.#stamps.set(account, stamp);
  }

  forget(account: string): void {
    this.#accounts.delete(account);
    this.#perAccountSource.resetPrefix(`${account}\n`);
  }

  #accountWait(account: string): number {
    const b = this.#accounts.get(account);
    const now = this.#now();
    return b && b.lockedUntil > now ? Math.ceil((b.lockedUntil - now) / 1000) : 0;
  }

  #countAccount(account: string): void {
    const now = this.#now();
    let b = this.#accounts.get(account);
    if (!b || (b.windowEnd <= now && b.lockedUntil <= now)) {
      b = { count: 0, windowEnd: now + WINDOW, lockedUntil: 0, strikes: b?.strikes ?? 0 };
      this.#accounts.set(account, b);
    }
    b.count++;
    if (b.count >= LOGIN_LIMITS.perAccount) {
      // Spent: lock unknown sources out for a window that doubles with each exhaustion.
      b.lockedUntil = now + Math.min(MAX_LOCK, WINDOW * 2 ** b.strikes);
      b.windowEnd = b.lockedUntil;
      b.count = 0;
      b.strikes++;
    }
    if (this.#accounts.size > 10_000)
      for (const [k, v] of this.#accounts)
        if (v.windowEnd <= now && v.lockedUntil <= now) this.#accounts.delete(k);
  }

  #isKnown(account: string, source: string): boolean {
    const at = this.#known.get(account)?.get(source);
    return at !== undefined && this.#now() - at < KNOWN_FOR;
  }

  #remember(account: string, source: string): void {
    let m = this.#known.get(account);
    if (!m) {
      m = new Map();
      this.#known.set(account, m);
    }
    m.delete(source);
    m.set(source, this.#now());
    // Oldest first in insertion order: keep the most recent few per account.
    while (m.size > KNOWN_PER_ACCOUNT) m.delete(m.keys().next().value as string);
  }
}
