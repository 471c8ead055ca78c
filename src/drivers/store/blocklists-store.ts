// Thin SQL over dns_blocklists (migration "dns blocklists"): core's BlocklistsRepository.
import type { BlocklistRow, BlocklistsRepository } from '../../core/ports/blocklists-repository.ts';
import { type Db, stmt } from '../db.ts';

const COLUMNS = 'id, kind, source, enabled, domain_count, invalid_count, fetched_at, last_error, created_at';

const toRow = (r: Record<string, unknown>): BlocklistRow => ({
  id: Number(r.id),
  kind: r.kind as BlocklistRow['kind'],
  source: String(r.source),
  enabled: r.enabled === 1,
  domain_count: Number(r.domain_count),
  invalid_count: Number(r.invalid_count),
  fetched_at: (r.fetched_at as string | null) ?? null,
  last_error: (r.last_error as string | null) ?? null,
  created_at: String(r.created_at),
});

export class BlocklistsStore implements BlocklistsRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  list(): BlocklistRow[] {
    return stmt(this.#db, `SELECT ${COLUMNS} FROM dns_blocklists ORDER BY id`).all().map(toRow);
  }

  byId(id: number): BlocklistRow | undefined {
    const r = stmt(this.#db, `SELECT ${COLUMNS} FROM dns_blocklists WHERE id = ?`).get(id);
    return r ? toRow(r) : undefined;
  }

  add(r: { kind: BlocklistRow['kind']; source: string }): BlocklistRow {
    return toRow(
      stmt(
        this.#db,
        `INSERT INTO dns_blocklists (kind, source, created_at) VALUES (?, ?, ?) RETURNING ${COLUMNS}`,
      ).get(r.kind, r.source, new Date().toISOString()) as Record<string, unknown>,
    );
  }

  setNames(id: number, names: readonly string[], invalid: number, at: string): void {
    stmt(
      this.#db,
      `UPDATE dns_blocklists SET domains = ?, domain_count = ?, invalid_count = ?, fetched_at = ?,
         last_error = NULL WHERE id = ?`,
    ).run(names.join('\n'), names.length, invalid, at, id);
  }

  setError(id: number, error: string): void {
    stmt(this.#db, 'UPDATE dns_blocklists SET last_error = ? WHERE id = ?').run(error, id);
  }

  setEnabled(id: number, enabled: boolean): boolean {
    return (
      Number(
        stmt(this.#db, 'UPDATE dns_blocklists SET enabled = ? WHERE id = ?').run(enabled ? 1 : 0, id).changes,
      ) > 0
    );
  }

  remove(id: number): boolean {
    return Number(stmt(this.#db, 'DELETE FROM dns_blocklists WHERE id = ?').run(id).changes) > 0;
  }

  enabledNames(): string[] {
    const rows = stmt(
      this.#db,
      "SELECT domains FROM dns_blocklists WHERE enabled = 1 AND domains != ''",
    ).all() as Array<{
      domains: string;
    }>;
    return rows.flatMap((r) => r.domains.split('\n'));
  }
}
