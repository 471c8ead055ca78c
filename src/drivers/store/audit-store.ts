import type { AuditRepository } from '../../core/ports/audit-repository.ts';
import type { AuditEntry, AuditQuery, AuditRow } from '../../schema/audit.ts';
import { type Db, stmt } from '../db.ts';

/**
 * Rows kept: the newest 200,000 (about 40 MB). Anyone on the LAN can make the API write audit rows
 * (every refused POST is one), so the trail must not be able to fill the disk.
 */
export const AUDIT_KEEP = 200_000;

export class AuditStore implements AuditRepository {
  readonly #db: Db;
  readonly #keep: number;
  #sincePrune = 0;
  constructor(db: Db, keep = AUDIT_KEEP) {
    this.#db = db;
    this.#keep = keep;
  }

  append(e: AuditEntry): void {
    const r = stmt(
      this.#db,
      'INSERT INTO audit (ts, username, role, source, action, target, outcome, status, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(e.ts, e.username, e.role, e.source, e.action, e.target, e.outcome, e.status, e.detail);
    // Pruning by id range is one index walk; doing it every few hundred rows keeps it cheap.
    if (++this.#sincePrune >= Math.min(500, this.#keep)) {
      this.#sincePrune = 0;
      stmt(this.#db, 'DELETE FROM audit WHERE id <= ?').run(Number(r.lastInsertRowid) - this.#keep);
    }
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
