// Thin SQL over service_accounts (migration "per-peer service accounts"): core's
// ServiceAccountsRepository. The password is kept because the peer's dashboard shows it (the spec);
// the database is 0600 in the API's data directory and backups of it are age-encrypted.
import type { ServiceAccountRow, ServiceAccountsRepository } from '../../core/ports/service-accounts.ts';
import { type Db, stmt } from '../db.ts';

interface Row {
  service_id: string;
  username: string;
  password: string;
  created_at: string;
}

const toRow = (r: Row): ServiceAccountRow => ({
  serviceId: r.service_id,
  username: r.username,
  password: r.password,
  createdAt: r.created_at,
});

export class ServiceAccountsStore implements ServiceAccountsRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  list(serviceId: string): ServiceAccountRow[] {
    return (
      stmt(this.#db, 'SELECT * FROM service_accounts WHERE service_id = ? ORDER BY username').all(
        serviceId,
      ) as unknown as Row[]
    ).map(toRow);
  }

  get(serviceId: string, username: string): ServiceAccountRow | undefined {
    const r = stmt(this.#db, 'SELECT * FROM service_accounts WHERE service_id = ? AND username = ?').get(
      serviceId,
      username,
    ) as Row | undefined;
    return r && toRow(r);
  }

  ofUser(username: string): ServiceAccountRow[] {
    return (
      stmt(this.#db, 'SELECT * FROM service_accounts WHERE username = ? ORDER BY service_id').all(
        username,
      ) as unknown as Row[]
    ).map(toRow);
  }

  usernames(): string[] {
    return (
      stmt(this.#db, 'SELECT DISTINCT username FROM service_accounts ORDER BY username').all() as unknown as {
        username: string;
      }[]
    ).map((r) => r.username);
  }

  put(row: ServiceAccountRow): void {
    stmt(
      this.#db,
      'INSERT INTO service_accounts (service_id, username, password, created_at) VALUES (?, ?, ?, ?)',
    ).run(row.serviceId, row.username, row.password, row.createdAt);
  }

  delete(serviceId: string, username: string): void {
    stmt(this.#db, 'DELETE FROM service_accounts WHERE service_id = ? AND username = ?').run(
      serviceId,
      username,
    );
  }
}
