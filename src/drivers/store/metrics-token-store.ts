import type { MetricsTokenRecord, MetricsTokenRepository } from '../../core/metrics/metrics-tokens.ts';
import { type Db, stmt } from '../db.ts';

/** The one metrics token hash (row id 1); replaced, never accumulated. */
export class MetricsTokenStore implements MetricsTokenRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  get(): MetricsTokenRecord | undefined {
    const row = stmt(this.#db, 'SELECT hash, created_at FROM metrics_token WHERE id = 1').get() as
      | { hash: string; created_at: string }
      | undefined;
    return row ? { hash: row.hash, createdAt: row.created_at } : undefined;
  }

  set(record: MetricsTokenRecord): void {
    stmt(
      this.#db,
      'INSERT INTO metrics_token (id, hash, created_at) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at',
    ).run(record.hash, record.createdAt);
  }
}
