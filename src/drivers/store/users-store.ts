import type { UsersRepository } from '../../core/ports/users-repository.ts';
import type { Role, UserRow } from '../../schema/users.ts';
import { type Db, stmt } from '../db.ts';

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
}
