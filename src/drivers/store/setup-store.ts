import type { SetupRepository, SetupState } from '../../core/ports/setup-repository.ts';
import { type Db, stmt } from '../db.ts';

export class SetupStore implements SetupRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
    db.prepare('INSERT OR IGNORE INTO setup (id) VALUES (1)').run();
  }

  get(): SetupState {
    return stmt(
      this.#db,
      'SELECT token_hash, token_created_at, completed_at FROM setup WHERE id = 1',
    ).get() as unknown as SetupState;
  }

  setTokenHash(hash: string): void {
    stmt(this.#db, 'UPDATE setup SET token_hash = ?, token_created_at = ? WHERE id = 1').run(
      hash,
      new Date().toISOString(),
    );
  }

  setRequestedServices(services: readonly string[]): void {
    stmt(
      this.#db,
      "INSERT INTO meta (key, value) VALUES ('requested_services', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    ).run(JSON.stringify(services));
  }

  requestedServices(): string[] {
    const row = stmt(this.#db, "SELECT value FROM meta WHERE key = 'requested_services'").get() as
      | { value: string }
      | undefined;
    try {
      const list: unknown = JSON.parse(row?.value ?? '[]');
      // Read back as slugs only: a restored database may carry anything here.
      return Array.isArray(list)
        ? list.filter((s): s is string => typeof s === 'string' && /^[a-z][a-z0-9-]{0,31}$/.test(s))
        : [];
    } catch {
      return [];
    }
  }

  markCompleted(): void {
    stmt(this.#db, 'UPDATE setup SET completed_at = ?, token_hash = NULL WHERE id = 1').run(
      new Date().toISOString(),
    );
  }
}
