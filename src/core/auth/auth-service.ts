// Login, logout, password change and reset. Every attempt is counted against its limits before any
// hashing starts (reserved, so concurrency cannot outrun them; see login-limits.ts), and an unknown
// user costs one real Argon2 verification, so timing does not reveal which accounts exist.
import { createHash } from 'node:crypto';
import type { Role } from '../../schema/users.ts';
import { AppError } from '../errors.ts';
import type { UsersRepository } from '../ports/users-repository.ts';
import { LoginLimits, type LoginLimitsOptions } from './login-limits.ts';
import { dummyHash, type PasswordHasher, randomPassword } from './password.ts';
import { RateLimiter } from './rate-limiter.ts';
import type { AccountDisabled, Sessions } from './sessions.ts';
import { TwoFactor } from './two-factor.ts';

export interface LoginResult {
  sessionId: string;
  csrfToken: string;
  username: string;
  role: Role;
  totpEnabled: boolean;
}

const WINDOW = 15 * 60_000;

export interface AuthOptions extends LoginLimitsOptions {
  /** Accounts that may not log in now (a disabled peer's); default none. */
  accountDisabled?: AccountDisabled;
}

export class AuthService {
  readonly #users: UsersRepository;
  readonly #sessions: Sessions;
  readonly #hasher: PasswordHasher;
  readonly limits: LoginLimits;
  /** Wrong current passwords in a password change: its own counter, so they cannot lock the login. */
  readonly passwordChanges = new RateLimiter({ max: 10, windowMs: WINDOW });
  /** TOTP setup, enable and disable; its password checks share the password-change budget. */
  readonly totp: TwoFactor;
  readonly #disabled: AccountDisabled;

  constructor(users: UsersRepository, sessions: Sessions, hasher: PasswordHasher, limits: AuthOptions = {}) {
    this.#disabled = limits.accountDisabled ?? (() => false);
    this.#users = users;
    this.#sessions = sessions;
    this.#hasher = hasher;
    this.limits = new LoginLimits(limits);
    this.totp = new TwoFactor(users, hasher, this.passwordChanges, limits.now);
  }

  /**
   * With two-factor on, a right password alone answers totp_required (and gives its reservation
   * back); a wrong or replayed code keeps the attempt counted, like a wrong password. Nothing about
   * two-factor is said before the password is right. A disabled peer's account answers 403
   * peer_disabled, and only once password and code are right: the refusal reveals nothing to a guesser,
   * and the attempt is given back (it was not a wrong guess).
   */
  async login(username: string, password: string, source: string, code?: string): Promise<LoginResult> {
    const account = username.toLowerCase();
    const user = this.#users.byUsername(account);
    if (user) this.limits.credentialIs(account, credentialStamp(user.password_hash));
    const attempt = this.limits.reserve(account, source);
    const ok = await this.#hasher.verify(password, user?.password_hash ?? dummyHash());
    if (!user || !ok) throw new AppError('unauthorized', 'Invalid username or password');
    const totpEnabled = this.totp.isEnabled(user.id);
    if (totpEnabled) {
      if (code === undefined) {
        attempt.giveBack();
        throw new AppError('totp_required', 'Enter the code from your authenticator app');
      }
      if (!this.totp.check(user.id, code)) throw new AppError('unauthorized', 'Invalid two-factor code');
    }
    if (this.#disabled(user.username, user.role)) {
      attempt.giveBack();
      throw new AppError(
        'peer_disabled',
        "This account's peer is disabled; you can log in again once the cell's owner enables it",
      );
    }
    attempt.succeeded();
    const { id, csrfToken } = this.#sessions.create(user.id, source);
    return { sessionId: id, csrfToken, username: user.username, role: user.role, totpEnabled };
  }

  /** Ends every session of the user, then opens a fresh one for the caller. */
  async changePassword(userId: number, current: string, next: string, source: string): Promise<LoginResult> {
    const user = this.#users.byId(userId);
    if (!user) throw new AppError('unauthorized', 'Session is no longer valid');
    const wait = this.passwordChanges.reserve(user.username);
    if (wait > 0)
      throw new AppError('rate_limited', 'Too many failed attempts; try again later', { retryAfter: wait });
    if (!(await this.#hasher.verify(current, user.password_hash))) {
      throw new AppError('forbidden', 'Current password is wrong', {
        fields: [{ field: 'current_password', message: 'does not match' }],
      });
    }
    this.passwordChanges.release(user.username);
    if (next === current) {
      throw new AppError('validation_failed', 'Invalid new_password', {
        fields: [{ field: 'new_password', message: 'must differ from the current password' }],
      });
    }
    this.#users.setPassword(user.id, await this.#hasher.hash(next));
    this.#sessions.destroyAllFor(user.id);
    const { id, csrfToken } = this.#sessions.create(user.id, source);
    return {
      sessionId: id,
      csrfToken,
      username: user.username,
      role: user.role,
      totpEnabled: this.totp.isEnabled(user.id),
    };
  }

  /**
   * Sets a new random password for a user, turns two-factor off (whoever lost the password may have
   * lost the phone too), ends their sessions and returns the password once.
   */
  async resetPassword(username: string): Promise<{ password: string; totpWasOn: boolean }> {
    const user = this.#users.byUsername(username);
    if (!user) throw new AppError('not_found', `User ${username} not found`);
    const password = randomPassword();
    this.#users.setPassword(user.id, await this.#hasher.hash(password));
    const totpWasOn = this.totp.turnOff(user.id);
    this.#sessions.destroyAllFor(user.id);
    this.limits.forget(user.username);
    return { password, totpWasOn };
  }

  async createUser(username: string, role: Role, password: string): Promise<number> {
    if (this.#users.byUsername(username)) throw new AppError('conflict', `User ${username} already exists`);
    return this.#users.insert(username, role, await this.#hasher.hash(password));
  }
}

/** A short digest of a password hash: enough to see it changed, without keeping the hash itself. */
function credentialStamp(passwordHash: string): string {
  return createHash('sha256').update(passwordHash).digest('base64url').slice(0, 16);
}
