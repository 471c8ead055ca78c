// First run. Until setup completes the cell answers 428 to the API; completing it needs the one-time
// setup token (stored only as a SHA-256 hash, so showing it again means issuing a new one).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SetupInput } from '../schema/setup.ts';
import type { PasswordHasher } from './auth/password.ts';
import { RateLimiter } from './auth/rate-limiter.ts';
import type { ConfigService } from './config-service.ts';
import { AppError } from './errors.ts';
import type { SetupRepository } from './ports/setup-repository.ts';
import type { UnitOfWork } from './ports/unit-of-work.ts';
import type { UsersRepository } from './ports/users-repository.ts';

export interface SetupDeps {
  setup: SetupRepository;
  users: UsersRepository;
  config: ConfigService;
  unitOfWork: UnitOfWork;
  hasher: PasswordHasher;
  /**
   * Runs once setup committed, before the answer: the running data plane was rendered by `pic up`
   * from the defaults and now takes the owner's cell name (Caddy's names and certificate, the zone).
   * Awaited so that the answer leaves after Caddy's graceful reload: a request racing the reload on a
   * kept-alive connection could find it closed. It must not throw (setup is committed already).
   */
  afterComplete?: () => Promise<void>;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();
const BASE32 = 'abcdefghijkmnpqrstuvwxyz23456789';

export class SetupService {
  readonly #d: SetupDeps;
  readonly #store: SetupRepository;
  readonly wrongTokens = new RateLimiter({ max: 10, windowMs: 15 * 60_000 });

  constructor(deps: SetupDeps) {
    this.#d = deps;
    this.#store = deps.setup;
  }

  #completed = false;

  /** Asked on every API request; once true it stays true (setup cannot be undone), so it is cached. */
  isCompleted(): boolean {
    if (!this.#completed) this.#completed = this.#store.get().completed_at !== null;
    return this.#completed;
  }

  /** Issues a new setup token (the previous one stops working). Undefined once setup is complete. */
  issueToken(): string | undefined {
    if (this.isCompleted()) return undefined;
    const bytes = randomBytes(20);
    const chars = [...bytes].map((b) => BASE32[b % 32]).join('');
    const token = chars.match(/.{5}/g)!.join('-');
    this.#store.setTokenHash(sha256(token).toString('hex'));
    return token;
  }

  #tokenMatches(token: string): boolean {
    const stored = this.#store.get().token_hash;
    if (!stored) return false;
    const expected = Buffer.from(stored, 'hex');
    const actual = sha256(token.trim().toLowerCase());
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }

  /** Creates the admin and stores the identity. Returns the admin's user id. */
  async complete(input: SetupInput, source: string): Promise<number> {
    if (this.isCompleted()) throw new AppError('setup_completed', 'Setup has already been completed');
    const wait = this.wrongTokens.reserve(source);
    if (wait > 0)
      throw new AppError('rate_limited', 'Too many wrong setup tokens; try again later', {
        retryAfter: wait,
      });
    if (!this.#tokenMatches(input.token)) {
      throw new AppError(
        'invalid_setup_token',
        'The setup token is wrong; run `pic setup-token` on the host for a new one',
      );
    }
    this.wrongTokens.release(source);
    const next = this.#d.config.withIdentity(input);
    const passwordHash = await this.#d.hasher.hash(input.admin_password);
    // Checked again inside the transaction: two concurrent completes both pass the check above, but
    // BEGIN IMMEDIATE serialises them and only the first finds setup still open.
    const userId = this.#d.unitOfWork.run(() => {
      if (this.#store.get().completed_at !== null)
        throw new AppError('setup_completed', 'Setup has already been completed');
      const id = this.#d.users.insert('admin', 'admin', passwordHash);
      this.#d.config.replaceAll(next);
      this.#store.setRequestedServices(input.services);
      this.#store.markCompleted();
      return id;
    });
    await this.#d.afterComplete?.();
    return userId;
  }
}
