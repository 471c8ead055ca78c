import type { SessionsRepository } from '../../core/ports/sessions-repository.ts';
import type { SessionRow, SessionWithUser } from '../../schema/users.ts';
import { type Db, stmt } from '../db.ts';
import { ChangeWatch } from './change-watch.ts';

/** Sessions kept in memory at most; past it the cache starts again empty. */
const CACHE_MAX = 1000;

/**
 * The session lookup of every API request reads its row from memory while nothing has changed:
 * every entry is dropped as soon as another connection or process commits anything to the database,
 * or the sessions, users or two-factor rows change on this connection (ChangeWatch), so a session
 * ended or a role changed anywhere is seen by the very next request, as with a query per request.
 */
export class SessionsStore implements SessionsRepository {
  readonly #db: Db;
  readonly #watch: ChangeWatch;
  readonly #cache = new Map<string, SessionWithUser>();
  #epoch = -1;
  constructor(db: Db) {
    this.#db = db;
    this.#watch = ChangeWatch.of(db, ['sessions', 'users', 'user_totp']);
  }

  insert(row: SessionRow): void {
    stmt(
      this.#db,
      'INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, source) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(
      row.id_hash,
      row.user_id,
      row.csrf_token,
      row.created_at,
      row.last_seen_at,
      row.expires_at,
      row.source,
    );
  }

  get(idHash: string): SessionWithUser | undefined {
    // Inside a transaction of this connection the rows read may still roll back: no cache at all.
    if (this.#db.isTransaction) return this.#query(idHash);
    const epoch = this.#watch.epoch();
    if (epoch !== this.#epoch) {
      this.#cache.clear();
      this.#epoch = epoch;
    }
    let row = this.#cache.get(idHash);
    if (row) return row;
    row = this.#query(idHash);
    if (row) {
      if (this.#cache.size >= CACHE_MAX) this.#cache.clear();
      this.#cache.set(idHash, Object.freeze(row));
    }
    return row;
  }

  #query(idHash: string): SessionWithUser | undefined {
    return stmt(
      this.#db,
      // Only what a request needs, and the two-factor flag in the same lookup (GET /api/auth/me says it).
      'SELECT s.user_id, s.csrf_token, s.last_seen_at, s.expires_at, u.username, u.role, ' +
        't.secret IS NOT NULL AS totp_enabled FROM sessions s JOIN users u ON u.id = s.user_id ' +
        'LEFT JOIN user_totp t ON t.user_id = s.user_id WHERE s.id_hash = ?',
    ).get(idHash) as SessionWithUser | undefined;
  }

  touch(idHash: string, now: number): void {
    stmt(this.#db, 'UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?').run(now, idHash);
  }

  delete(idHash: string): void {
    stmt(this.#db, 'DELETE FROM sessions WHERE id_hash = ?').run(idHash);
  }

  deleteForUser(userId: number): number {
    return Number(stmt(this.#db, 'DELETE FROM sessions WHERE user_id = ?').run(userId).changes);
  }

  deleteExpired(now: number, idleMs: number): number {
    return Number(
      stmt(this.#db, 'DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?').run(now, now - idleMs)
        .changes,
    );
  }
}
