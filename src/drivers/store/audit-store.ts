import type { Db } from '../db.ts';

export interface AuditEntry {
  ts: string;
  username: string | null;
  role: string | null;
  source: string;
  action: string;
  target: string | null;
  outcome: 'success' | 'failure' | 'denied';
  status: number | null;
  detail: string | null;
}

export interface AuditRow extends AuditEntry {
  id: number;
}

export interface AuditQuery {
  username?: string | undefined;
  action?: string | undefined;
  outcome?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  q?: string | undefined;
  limit: number;
  offset: number;
}

export class AuditStore {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  append(e: AuditEntry): void {
    this.#db
      .prepare(
        'INSERT INTO audit (ts, username, role, source, action, target, outcome, status, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(e.ts, e.username, e.role, e.source, e.action, e.target, e.outcome, e.status, e.detail);
  }

  query(q: AuditQuery): { total: number; items: AuditRow[] } {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.username) (where.push('username = ?'), args.push(q.username));
    if (q.action) (where.push('action LIKE ?'), args.push(`%${q.action}%`));
    if (q.outcome) (where.push('outcome = ?'), args.push(q.outcome));
    if (q.since) (where.push('ts >= ?'), args.push(q.since));
    if (q.until) (where.push('ts <= ?'), args.push(q.until));
    if (q.q)
      (where.push('(action LIKE ? OR target LIKE ? OR detail LIKE ? OR username LIKE ?)'),
        args.push(`%${q.q}%`, `%${q.q}%`, `%${q.q}%`, `%${q.q}%`));
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.#db.prepare(`SELECT count(*) AS n FROM audit ${clause}`).get(...args) as { n: number }).n;
    const items = this.#db
      .prepare(`SELECT * FROM audit ${clause} ORDER BY id DESC LIMIT ? OFFSET ?`)
      .all(...args, q.limit, q.offset) as unknown as AuditRow[];
    return { total, items };
  }
}
