// First run. Until setup completes the cell answers 428 to the API; completing it needs the one-time
// setup token (stored only as a SHA-256 hash, so showing it again means issuing a new one).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../drivers/db.ts';
import { transaction } from '../drivers/db.ts';
import type { SetupStore } from '../drivers/store/setup-store.ts';
import type { UsersStore } from '../drivers/store/users-store.ts';
import type { SetupInput } from '../schema/setup.ts';
import { hashPassword } from './auth/password.ts';
import { RateLimiter } from './auth/rate-limiter.ts';
import type { ConfigService } from './config-service.ts';
import { AppError } from './errors.ts';

const sha256 = (s: string) => createHash('sha256').update(s).digest();
const BASE32 = 'abcdefghijkmnpqrstuvwxyz23456789';

export class SetupService {
  readonly #db: Db;
  readonly #store: SetupStore;
  readonly #users: UsersStore;
  readonly #config: ConfigService;
  readonly wrongTokens = new RateLimiter({ max: 10, windowMs: 15 * 60_000 });

  constructor(db: Db, store: SetupStore, users: UsersStore, config: ConfigService) {
    this.#db = db;
    this.#store = store;
    this.#users = users;
    this.#config = config;
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
    const wait = this.wrongTokens.retryAfter(source);
    if (wait > 0)
      throw new AppError('rate_limited', 'Too many wrong setup tokens; try again later', {
        retryAfter: wait,
      });
    if (!this.#tokenMatches(input.token)) {
      this.wrongTokens.hit(source);
      throw new AppError(
        'invalid_setup_token',
        'The setup token is wrong; run `pic setup-token` on the host for a new one',
      );
    }
    const next = this.#config.withIdentity(input);
    const passwordHash = await hashPassword(input.admin_password);
    // Checked again inside the transaction: two concurrent completes both pass the check above, but
    // BEGIN IMMEDIATE serialises them and only the first finds setup still open.
    return transaction(this.#db, () => {
      if (this.#store.get().completed_at !== null)
        throw new AppError('setup_completed', 'Setup has already been completed');
      const id = this.#users.insert('admin', 'admin', passwordHash);
      this.#config.replaceAll(next);
      this.#db
        .prepare(
          "INSERT INTO meta (key, value) VALUES ('requested_services', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        )
        .run(JSON.stringify(input.services));
      this.#store.markCompleted();
      return id;
    });
  }
}
