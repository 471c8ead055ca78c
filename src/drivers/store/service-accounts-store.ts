// Thin SQL over service_accounts (migration "service accounts"): core's ServiceAccountsRepository.
// The password is kept because the peer's dashboard shows it (the spec), sealed (sealed-text.ts)
// under a key in the secrets directory: a copy of the database alone does not give it away.
import type { ServiceAccountRow, ServiceAccountsRepository } from '../../core/ports/service-accounts.ts';
import { type Db, stmt } from '../db.ts';
import type { SealedText } from '../secrets/sealed-text.ts';

interface Row {
  service_id: string;
  username: string;
  password: string;
  created_at: string;
}

export class ServiceAccountsStore implements ServiceAccountsRepository {
  readonly #db: Db;
  readonly #sealed: SealedText;
  constructor(db: Db, sealed: SealedText) {
    this.#db = db;
    this.#sealed = sealed;
  }

  list(serviceId: string): ServiceAccountRow[] {
    return (
      stmt(this.#db, 'SELECT * FROM service_accounts WHERE service_id = ? ORDER BY username').all(
        serviceId,
      ) as unknown as Row[]
    ).map((r) => this.#toRow(r));
  }

  get(serviceId: string, username: string): ServiceAccountRow | undefined {
    const r = stmt(this.#db, 'SELECT * FROM service_accounts WHERE service_id = ? AND username = ?').get(
      serviceId,
      username,
    ) as Row | undefined;
    return r && this.#toRow(r);
  }

  ofUser(username: string): ServiceAccountRow[] {
    return (
      stmt(this.#db, 'SELECT * FROM service_accounts WHERE username = ? ORDER BY service_id').all(
        username,
      ) as unknown as Row[]
    ).map((r) => this.#toRow(r));
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
    ).run(row.serviceId, row.username, this.#sealed.seal(row.password), row.createdAt);
  }

  delete(serviceId: string, username: string): void {
    stmt(this.#db, 'DELETE FROM service_accounts WHERE service_id = ? AND username = ?').run(
      serviceId,
      username,
    );
  }

  #toRow(r: Row): ServiceAccountRow {
    return {
      serviceId: r.service_id,
      username: r.username,
      password: this.#sealed.open(r.password),
      createdAt: r.created_at,
    };
  }
}
