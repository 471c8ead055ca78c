// Thin SQL over dns_blocked_hourly and dns_blocked_meta (migration "dns blocked queries"): core's
// BlockedStatsRepository (ADR 0020, amendment).
import type {
  BlockedAddressTotal,
  BlockedHourRow,
  BlockedStatsRepository,
} from '../../core/ports/blocked-stats-repository.ts';
import { type Db, stmt, transaction } from '../db.ts';

export class BlockedStatsStore implements BlockedStatsRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  add(rows: readonly BlockedHourRow[]): void {
    const upsert = stmt(
      this.#db,
      `INSERT INTO dns_blocked_hourly (hour, address, peer, name, count) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (hour, address, name) DO UPDATE SET count = count + excluded.count, peer = excluded.peer`,
    );
    transaction(this.#db, () => {
      for (const r of rows) upsert.run(r.hour, r.address, r.peer, r.name, r.count);
    });
  }

  prune(beforeHour: number): void {
    stmt(this.#db, 'DELETE FROM dns_blocked_hourly WHERE hour < ?').run(beforeHour);
  }

  totals(fromHour: number): BlockedAddressTotal[] {
    // The peer of the address's latest bucket: SQLite takes the bare column from the MAX(hour) row.
    return stmt(
      this.#db,
      `SELECT address, peer, MAX(hour) AS latest, SUM(count) AS total FROM dns_blocked_hourly
       WHERE hour >= ? GROUP BY address ORDER BY total DESC, address`,
    )
      .all(fromHour)
      .map((r) => ({
        address: String(r.address),
        peer: (r.peer as string | null) ?? null,
        count: Number(r.total),
      }));
  }

  top(fromHour: number, limit: number): Array<{ name: string; count: number }> {
    return stmt(
      this.#db,
      `SELECT name, SUM(count) AS total FROM dns_blocked_hourly WHERE hour >= ?
       GROUP BY name ORDER BY total DESC, name LIMIT ?`,
    )
      .all(fromHour, limit)
      .map((r) => ({ name: String(r.name), count: Number(r.total) }));
  }

  topByAddress(fromHour: number, limit: number): Array<{ address: string; name: string; count: number }> {
    return stmt(
      this.#db,
      `SELECT address, name, total FROM (
         SELECT address, name, SUM(count) AS total,
                ROW_NUMBER() OVER (PARTITION BY address ORDER BY SUM(count) DESC, name) AS rank
         FROM dns_blocked_hourly WHERE hour >= ? GROUP BY address, name)
       WHERE rank <= ? ORDER BY address, rank`,
    )
      .all(fromHour, limit)
      .map((r) => ({ address: String(r.address), name: String(r.name), count: Number(r.total) }));
  }

  resetAt(): string {
    const r = stmt(this.#db, 'SELECT reset_at FROM dns_blocked_meta WHERE id = 1').get();
    return r ? String(r.reset_at) : new Date(0).toISOString();
  }

  reset(at: string): void {
    transaction(this.#db, () => {
      stmt(this.#db, 'DELETE FROM dns_blocked_hourly').run();
      stmt(
        this.#db,
        'INSERT INTO dns_blocked_meta (id, reset_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET reset_at = excluded.reset_at',
      ).run(at);
    });
  }
}
