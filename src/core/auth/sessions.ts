// Server-side sessions. The cookie carries a random id; the database holds only its SHA-256, so a
// copy of cell.db does not hand out live sessions. Each session has its own CSRF token.
import { hash, randomBytes } from 'node:crypto';
import type { Role } from '../../schema/users.ts';
import { boundedMemo } from '../bounded-memo.ts';
import type { SessionsRepository } from '../ports/sessions-repository.ts';

export const SESSION_TTL_MS = 7 * 24 * 3600_000;
export const SESSION_IDLE_MS = 24 * 3600_000;

// One-shot hash: a third of the cost of createHash().update().digest(), and it runs on every request.
export const hashId = (id: string) => hash('sha256', id, 'hex');

export interface Session {
  idHash: string;
  userId: number;
  username: string;
  role: Role;
  csrfToken: string;
  /** Two-factor login is on for the account (read with the session, in the same lookup). */
  totpEnabled: boolean;
  /**
   * The account is a disabled (or expired) peer's: the API lets this session read only who it is and
   * that it is disabled (routes marked whileDisabled), checked on every request so it holds at once.
   * Present only when true.
   */
  disabled?: true;
}

/** Whether an account is disabled now (a peer the owner disabled); asked each time a session is used. */
export type AccountDisabled = (username: string, role: Role) => boolean;

export class Sessions {
  readonly #store: SessionsRepository;
  readonly #now: () => number;
  readonly #disabled: AccountDisabled;
  /**
   * The SHA-256 of the cookies seen lately (a pure function of the cookie, asked on every request of
   * a session; bounded, started again when full). Only the process's memory holds the raw ids, as it
   * does while it answers them; the database still holds only the hashes.
   */
  readonly #hashOf = boundedMemo(hashId, { maxKeyLength: 128 });
  constructor(
    store: SessionsRepository,
    now: () => number = Date.now,
    disabled: AccountDisabled = () => false,
  ) {
    this.#store = store;
    this.#now = now;
    this.#disabled = disabled;
  }

  /** Creates a session and returns the raw id for the cookie (never stored). */
  create(userId: number, source: string): { id: string; csrfToken: string } {
    const id = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    const now = this.#now();
    this.#store.insert({
      id_hash: hashId(id),
      user_id: userId,
      csrf_token: csrfToken,
      created_at: now,
      last_seen_at: now,
      expires_at: now + SESSION_TTL_MS,
      source,
    });
    return { id, csrfToken };
  }

  resolve(id: string | undefined): Session | undefined {
    if (!id || id.length > 128) return undefined;
    const idHash = this.#hashOf(id);
    const row = this.#store.get(idHash);
    if (!row) return undefined;
    const now = this.#now();
    if (row.expires_at <= now || row.last_seen_at + SESSION_IDLE_MS <= now) {
      this.#store.delete(idHash);
      return undefined;
    }
    if (now - row.last_seen_at > 60_000) this.#store.touch(idHash, now);
    return {
      idHash,
      userId: row.user_id,
      username: row.username,
      role: row.role,
      csrfToken: row.csrf_token,
      totpEnabled: row.totp_enabled === 1,
      ...(this.#disabled(row.username, row.role) ? { disabled: true as const } : {}),
    };
  }

  destroy(idHash: string): void {
    this.#store.delete(idHash);
  }

  destroyAllFor(userId: number): number {
    return this.#store.deleteForUser(userId);
  }

  sweep(): number {
    return this.#store.deleteExpired(this.#now(), SESSION_IDLE_MS);
  }
}
