import { type Db, stmt } from '../db.ts';

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
    stmt(
      this.#db,
      'INSERT INTO audit (ts, username, role, source, action, target, outcome, status, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(e.ts, e.username, e.role, e.source, e.action, e.target, e.outcome, e.status, e.detail);
  }

  query(q: AuditQuery): { total: number; items: AuditRow[] } {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (sql: string, ...values: (string | number)[]) => {
      where.push(sql);
      args.push(...values);
    };
    if (q.username) add('username = ?', q.username);
    if (q.action) add('action LIKE ?', `%${q.action}%`);
    if (q.outcome) add('outcome = ?', q.outcome);
    if (q.since) add('ts >= ?', q.since);
    if (q.until) add('ts <= ?', q.until);
    if (q.q) {
      const like = `%${q.q}%`;
      add('(action LIKE ? OR target LIKE ? OR detail LIKE ? OR username LIKE ?)', like, like, like, like);
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
