import type { AuditRepository } from '../../core/ports/audit-repository.ts';
import type {
  AnonymousRefusal,
  AnonymousRefusalHit,
  AuditEntry,
  AuditQuery,
  AuditRow,
} from '../../schema/audit.ts';
import { type Db, stmt } from '../db.ts';

/**
 * What the trail keeps: the newest 200,000 rows and at most 32 MiB of field text, whichever is
 * smaller. Fields are capped by the AuditService, so a row is small; the byte cap still holds if
 * many rows are long. Anonymous refusals have their own table and caps (they never evict these).
 */
export const AUDIT_KEEP = 200_000;
export const AUDIT_MAX_BYTES = 32 << 20;
export const REFUSALS_KEEP = 20_000;

/** The bytes a row costs, as SQL over the audit table's columns (text lengths + fixed overhead). */
const ROW_BYTES =
  "(48 + length(ts) + length(coalesce(username, '')) + length(coalesce(role, '')) + length(source)" +
  " + length(action) + length(coalesce(target, '')) + length(outcome) + length(coalesce(detail, '')))";

export class AuditStore implements AuditRepository {
  readonly #db: Db;
  readonly #keep: number;
  readonly #maxBytes: number;
  #bytes: number;
  #sincePrune = 0;
  #refusalInserts = 0;
  constructor(db: Db, keep = AUDIT_KEEP, maxBytes = AUDIT_MAX_BYTES) {
    this.#db = db;
    this.#keep = keep;
    this.#maxBytes = maxBytes;
    this.#bytes = (
      db.prepare(`SELECT coalesce(sum(${ROW_BYTES}), 0) AS b FROM audit`).get() as { b: number }
    ).b;
  }

  append(e: AuditEntry): void {
    // Measured by the same SQL that pruning subtracts (SQLite counts characters, JS counts UTF-16
    // units: two measures would drift apart on every emoji until the cap emptied the table).
    const r = stmt(
      this.#db,
      `INSERT INTO audit (ts, username, role, source, action, target, outcome, status, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, ${ROW_BYTES} AS b`,
    ).get(e.ts, e.username, e.role, e.source, e.action, e.target, e.outcome, e.status, e.detail) as {
      id: number;
      b: number;
    };
    this.#bytes += r.b;
    // Pruning by id range is one index walk; doing it every few hundred rows keeps it cheap.
    if (++this.#sincePrune >= Math.min(500, this.#keep)) {
      this.#sincePrune = 0;
      const gone = stmt(this.#db, `DELETE FROM audit WHERE id <= ? RETURNING ${ROW_BYTES} AS b`).all(
        r.id - this.#keep,
      ) as Array<{ b: number }>;
      for (const g of gone) this.#bytes -= g.b;
    }
    if (this.#bytes > this.#maxBytes) this.#pruneBytes();
  }

  /** Drops the oldest rows until the kept text fits the byte cap again (with 10 % headroom). */
  #pruneBytes(): void {
    const target = this.#maxBytes * 0.9;
    while (this.#bytes > target) {
      const oldest = stmt(
        this.#db,
        `SELECT id, ${ROW_BYTES} AS b FROM audit ORDER BY id LIMIT 500`,
      ).all() as Array<{
        id: number;
        b: number;
      }>;
      if (oldest.length === 0) {
        this.#bytes = 0;
        return;
      }
      let last = 0;
      for (const o of oldest) {
        this.#bytes -= o.b;
        last = o.id;
        if (this.#bytes <= target) break;
      }
      stmt(this.#db, 'DELETE FROM audit WHERE id <= ?').run(last);
    }
  }

  countRefusal(h: AnonymousRefusalHit): void {
    const r = stmt(
      this.#db,
      `INSERT INTO audit_anon (minute, source, count, last_action, last_status, last_target)
       VALUES (?, ?, 1, ?, ?, ?)
       ON CONFLICT (source, minute) DO UPDATE SET count = count + 1, last_action = excluded.last_action,
         last_status = excluded.last_status, last_target = excluded.last_target`,
    ).run(h.minute, h.source, h.action, h.status, h.target);
    if (r.changes > 0 && ++this.#refusalInserts >= 500) {
      this.#refusalInserts = 0;
      stmt(this.#db, 'DELETE FROM audit_anon WHERE id <= (SELECT max(id) FROM audit_anon) - ?').run(
        REFUSALS_KEEP,
      );
    }
  }

  refusals(q: { source?: string | undefined; limit: number; offset: number }): {
    total: number;
    items: AnonymousRefusal[];
  } {
    const clause = q.source ? 'WHERE source = ?' : '';
    const args = q.source ? [q.source] : [];
    const total = (
      stmt(this.#db, `SELECT count(*) AS n FROM audit_anon ${clause}`).get(...args) as { n: number }
    ).n;
    const items = stmt(
      this.#db,
      `SELECT * FROM audit_anon ${clause} ORDER BY minute DESC, id DESC LIMIT ? OFFSET ?`,
    ).all(...args, q.limit, q.offset) as unknown as AnonymousRefusal[];
    return { total, items };
  }

  query(q: AuditQuery): { total: number; items: AuditRow[] } {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (sql: string, ...values: (string | number)[]) => {
      where.push(sql);
      args.push(...values);
    };
    if (q.username) add('username = ?', q.username);
    // Substring search: % and _ typed by the owner are literal characters, not wildcards.
    const contains = (text: string) => `%${text.replace(/[\\%_]/g, '\\$&')}%`;
    if (q.action) add("action LIKE ? ESCAPE '\\'", contains(q.action));
    if (q.outcome) add('outcome = ?', q.outcome);
    if (q.since) add('ts >= ?', q.since);
    if (q.until) add('ts <= ?', q.until);
    if (q.q) {
      const like = contains(q.q);
      add(
        "(action LIKE ? ESCAPE '\\' OR target LIKE ? ESCAPE '\\' OR detail LIKE ? ESCAPE '\\' OR username LIKE ? ESCAPE '\\')",
        like,
        like,
        like,
        like,
      );
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (stmt(this.#db, `SELECT count(*) AS n FROM audit ${clause}`).get(...args) as { n: number })
      .n;
    const items = stmt(this.#db, `SELECT * FROM audit ${clause} ORDER BY id DESC LIMIT ? OFFSET ?`).all(
      ...args,
      q.limit,
      q.offset,
    ) as unknown as AuditRow[];
    return { total, items };
  }
}
