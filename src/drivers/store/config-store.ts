import type { ConfigRepository } from '../../core/ports/config-repository.ts';
import { type Db, stmt } from '../db.ts';

/** The configuration as stored: `current` is what the owner asked for, `applied` what the data plane runs. */
export class ConfigStore implements ConfigRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  load(): { current: unknown; applied: unknown } | undefined {
    const row = stmt(this.#db, 'SELECT current, applied FROM config WHERE id = 1').get() as
      | { current: string; applied: string }
      | undefined;
    return row ? { current: JSON.parse(row.current), applied: JSON.parse(row.applied) } : undefined;
  }

  save(current: unknown, applied: unknown): void {
    stmt(
      this.#db,
      'INSERT INTO config (id, current, applied, updated_at) VALUES (1, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET current = excluded.current, applied = excluded.applied, updated_at = excluded.updated_at',
    ).run(JSON.stringify(current), JSON.stringify(applied), new Date().toISOString());
  }
}
