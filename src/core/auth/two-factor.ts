// Two-factor login with time-based one-time codes (TOTP, RFC 6238: SHA-1, 6 digits, 30 s steps) from
// the maintained `otpauth` library, plus ten single-use recovery codes.
//
// - Setup stores a *pending* secret; only a code from it (enable) makes it the active one, so a
//   half-finished setup never locks anyone out. A new setup replaces a pending one.
// - A code is accepted for the previous, current or next step (clock drift), and only for a step later
//   than the last one accepted for that user — stored in SQLite, so a code cannot be replayed, not
//   even after a restart or by two concurrent logins (the store's update is conditional).
// - Recovery codes carry 80 random bits, so a SHA-256 of each is all that is stored (like session ids);
//   each works once.
// - The secret is handed out once, by setup, and is never logged, put in an error or an audit row.
// Record of the design: docs/adr/0008-passwords-sessions-csrf.md, "Two-factor login".
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import { AppError } from '../errors.ts';
import type { UsersRepository } from '../ports/users-repository.ts';
import type { PasswordHasher } from './password.ts';
import type { RateLimiter } from './rate-limiter.ts';

export const TOTP_PERIOD_S = 30;
export const TOTP_DIGITS = 6;
export const RECOVERY_CODE_COUNT = 10;

export interface TotpSetup {
  secret: string;
  otpauth_url: string;
  /** The otpauth URL as a QR code: an SVG data: URL. */
  qr: string;
}

const totpFor = (secret: string, label = 'PIC', issuer = 'PIC') =>
  new TOTP({
    issuer,
    label,
    secret: Secret.fromBase32(secret),
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_S,
  });

/** The current 30 s step at `now` (ms). */
export const stepAt = (now: number) => Math.floor(now / 1000 / TOTP_PERIOD_S);

/**
 * The step among the previous, current and next one that `code` is right for and that comes after
 * `after` (the last accepted step), or undefined. All three are compared, in constant time each.
 */
export function matchingStep(
  secret: string,
  code: string,
  now: number,
  after: number | null,
): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const totp = totpFor(secret);
  const given = Buffer.from(code);
  const current = stepAt(now);
  let found: number | undefined;
  for (const step of [current - 1, current, current + 1]) {
    const expected = Buffer.from(totp.generate({ timestamp: step * TOTP_PERIOD_S * 1000 }));
    if (timingSafeEqual(expected, given) && (after === null || step > after)) found = step;
  }
  return found;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** 16 base32 characters (80 random bits) shown as xxxx-xxxx-xxxx-xxxx. */
export function newRecoveryCode(): string {
  const bytes = randomBytes(16);
  const chars = [...bytes].map((b) => BASE32[b & 31]).join('');
  return chars.match(/.{4}/g)!.join('-');
}

/** Case, spaces and dashes do not matter when a recovery code is typed. */
const normalizeRecovery = (code: string) => code.toLowerCase().replace(/[\s-]/g, '');

export const hashRecoveryCode = (code: string) =>
  createHash('sha256')
    .update(`pic-recovery:${normalizeRecovery(code)}`)
    .digest('hex');

const isRecoveryShaped = (code: string) => /^[a-z2-7]{16}$/.test(normalizeRecovery(code));

export class TwoFactor {
  readonly #users: UsersRepository;
  readonly #hasher: PasswordHasher;
  /** Shared with password changes: a stolen session gets one budget of password guesses, not two. */
  readonly #limiter: RateLimiter;
  readonly #now: () => number;

  constructor(
    users: UsersRepository,
    hasher: PasswordHasher,
    limiter: RateLimiter,
    now: () => number = Date.now,
  ) {
    this.#users = users;
    this.#hasher = hasher;
    this.#limiter = limiter;
    this.#now = now;
  }

  isEnabled(userId: number): boolean {
    return Boolean(this.#users.totp(userId)?.secret);
  }

  /** A new pending secret (replacing a pending one); refused while two-factor is on. */
  async setup(userId: number, username: string, issuer: string): Promise<TotpSetup> {
    if (this.isEnabled(userId))
      throw new AppError('conflict', 'Two-factor login is already on; turn it off first');
    const secret = new Secret({ size: 20 }).base32;
    this.#users.setPendingTotp(userId, secret);
    const otpauthUrl = totpFor(secret, username, issuer).toString();
    const svg = await QRCode.toString(otpauthUrl, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return {
      secret,
      otpauth_url: otpauthUrl,
      qr: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`,
    };
  }

  /**
   * Confirms the pending secret with the password and a code from it; returns the recovery codes,
   * shown this once. The password too: a stolen session must not turn on a second factor whose secret
   * only the thief holds, locking the owner out.
   */
  async enable(userId: number, password: string, code: string): Promise<string[]> {
    const row = this.#users.totp(userId);
    if (row?.secret) throw new AppError('conflict', 'Two-factor login is already on');
    if (!row?.pending_secret) throw new AppError('conflict', 'Start two-factor setup first');
    const username = await this.#checkPassword(userId, password);
    const step = matchingStep(row.pending_secret, code.replace(/\s/g, ''), this.#now(), null);
    if (step === undefined) {
      throw new AppError('forbidden', 'The code does not match', {
        fields: [{ field: 'code', message: 'does not match; check the time on your device' }],
      });
    }
    this.#limiter.release(username);
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    this.#users.enableTotp(userId, row.pending_secret, step, codes.map(hashRecoveryCode));
    return codes;
  }

  /**
   * Whether `code` is a right, unused code of the user's — a TOTP code for a step after the last
   * accepted one, or an unused recovery code — and spends it. False when two-factor is off.
   */
  check(userId: number, code: string): boolean {
    const row = this.#users.totp(userId);
    if (!row?.secret) return false;
    const compact = code.replace(/\s/g, '');
    if (/^\d{6}$/.test(compact)) {
      const step = matchingStep(row.secret, compact, this.#now(), row.last_step);
      return step !== undefined && this.#users.acceptTotpStep(userId, step);
    }
    return isRecoveryShaped(code) && this.#users.spendRecoveryCode(userId, hashRecoveryCode(code));
  }

  /** Turns two-factor off after the password and a code (or a recovery code); both count as guesses. */
  async disable(userId: number, password: string, code: string): Promise<void> {
    if (!this.isEnabled(userId)) throw new AppError('conflict', 'Two-factor login is not on');
    const username = await this.#checkPassword(userId, password);
    if (!this.check(userId, code)) {
      throw new AppError('forbidden', 'The code does not match', {
        fields: [{ field: 'code', message: 'does not match or was already used' }],
      });
    }
    this.#limiter.release(username);
    this.#users.disableTotp(userId);
  }

  /**
   * The account's password, or a 403 naming the field. The attempt is reserved before hashing, like
   * every password check (see rate-limiter.ts); the caller releases it once the whole step succeeded.
   */
  async #checkPassword(userId: number, password: string): Promise<string> {
    const user = this.#users.byId(userId);
    if (!user) throw new AppError('unauthorized', 'Session is no longer valid');
    const wait = this.#limiter.reserve(user.username);
    if (wait > 0)
      throw new AppError('rate_limited', 'Too many failed attempts; try again later', { retryAfter: wait });
    if (!(await this.#hasher.verify(password, user.password_hash))) {
      throw new AppError('forbidden', 'Password is wrong', {
        fields: [{ field: 'password', message: 'does not match' }],
      });
    }
    return user.username;
  }

  /** Turns two-factor off without questions (`pic admin reset-password`); returns whether it was on. */
  turnOff(userId: number): boolean {
    return this.#users.disableTotp(userId);
  }

  recoveryCodesLeft(userId: number): number {
    return this.#users.recoveryCodesLeft(userId);
  }
}
