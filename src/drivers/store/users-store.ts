import type { UsersRepository } from '../../core/ports/users-repository.ts';
import type { Role, TotpRow, UserRow } from '../../schema/users.ts';
import { type Db, stmt, transaction } from '../db.ts';

export class UsersStore implements UsersRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  byUsername(username: string): UserRow | undefined {
    return stmt(this.#db, 'SELECT * FROM users WHERE username = ?').get(username) as UserRow | undefined;
  }

  byId(id: number): UserRow | undefined {
    return stmt(this.#db, 'SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
  }

  insert(username: string, role: Role, passwordHash: string): number {
    const now = new Date().toISOString();
    const r = stmt(
      this.#db,
      'INSERT INTO users (username, role, password_hash, created_at, password_changed_at) VALUES (?, ?, ?, ?, ?)',
    ).run(username, role, passwordHash, now, now);
    return Number(r.lastInsertRowid);
  }

  setPassword(id: number, passwordHash: string): void {
    stmt(this.#db, 'UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?').run(
      passwordHash,
      new Date().toISOString(),
      id,
    );
  }

  delete(username: string): void {
    stmt(this.#db, 'DELETE FROM users WHERE username = ?').run(username);
  }

  count(role?: Role): number {
    const row = (
      role
        ? stmt(this.#db, 'SELECT count(*) AS n FROM users WHERE role = ?').get(role)
        : stmt(this.#db, 'SELECT count(*) AS n FROM users').get()
    ) as { n: number };
    return row.n;
  }

  totp(userId: number): TotpRow | undefined {
    const row = stmt(this.#db, 'SELECT * FROM user_totp WHERE user_id = ?').get(userId);
    return row ? ({ ...row } as unknown as TotpRow) : undefined;
  }

  setPendingTotp(userId: number, secret: string): void {
    stmt(
      this.#db,
      'INSERT INTO user_totp (user_id, pending_secret) VALUES (?, ?) ON CONFLICT(user_id) DO UPDATE SET pending_secret = excluded.pending_secret',
    ).run(userId, secret);
  }

  enableTotp(userId: number, secret: string, step: number, recoveryHashes: readonly string[]): void {
    transaction(this.#db, () => {
      stmt(
        this.#db,
        'UPDATE user_totp SET secret = ?, pending_secret = NULL, last_step = ?, enabled_at = ? WHERE user_id = ?',
      ).run(secret, step, new Date().toISOString(), userId);
      stmt(this.#db, 'DELETE FROM user_recovery_codes WHERE user_id = ?').run(userId);
      const insert = stmt(this.#db, 'INSERT INTO user_recovery_codes (user_id, code_hash) VALUES (?, ?)');
      for (const h of recoveryHashes) insert.run(userId, h);
    });
  }

  disableTotp(userId: number): boolean {
    return transaction(this.#db, () => {
      const was = stmt(this.#db, 'SELECT secret FROM user_totp WHERE user_id = ?').get(userId) as
        | { secret: string | null }
        | undefined;
      stmt(this.#db, 'DELETE FROM user_totp WHERE user_id = ?').run(userId);
      stmt(this.#db, 'DELETE FROM user_recovery_codes WHERE user_id = ?').run(userId);
      return Boolean(was?.secret);
    });
  }

  acceptTotpStep(userId: number, step: number): boolean {
    const r = stmt(
      this.#db,
      'UPDATE user_totp SET last_step = ? WHERE user_id = ? AND secret IS NOT NULL AND (last_step IS NULL OR last_step < ?)',
    ).run(step, userId, step);
    return Number(r.changes) === 1;
  }

  spendRecoveryCode(userId: number, codeHash: string): boolean {
    const r = stmt(
      this.#db,
      'UPDATE user_recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL',
    ).run(new Date().toISOString(), userId, codeHash);
    return Number(r.changes) === 1;
  }

  recoveryCodesLeft(userId: number): number {
    const row = stmt(
      this.#db,
      'SELECT count(*) AS n FROM user_recovery_codes WHERE user_id = ? AND used_at IS NULL',
    ).get(userId) as { n: number };
    return row.n;
  }
}
