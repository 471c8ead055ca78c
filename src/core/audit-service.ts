// The one writer of audit rows: API requests, the health monitor and host commands all record through
// it, so every row has the same shape and timestamp format. No secret belongs in any field.
import type { AuditEntry, AuditQuery, AuditRow } from '../schema/audit.ts';
import type { AuditRepository } from './ports/audit-repository.ts';

/** What a writer says; who (username, role), outcome, status and detail default to none / success. */
export type AuditRecord = Pick<AuditEntry, 'source' | 'action'> &
  Partial<Omit<AuditEntry, 'ts' | 'source' | 'action'>>;

export class AuditService {
  readonly #repo: AuditRepository;
  readonly #now: () => Date;

  constructor(repo: AuditRepository, now: () => Date = () => new Date()) {
    this.#repo = repo;
    this.#now = now;
  }

  record(r: AuditRecord): void {
    this.#repo.append({
      ts: this.#now().toISOString(),
      username: r.username ?? null,
      role: r.role ?? null,
      source: r.source,
      action: r.action,
      target: r.target ?? null,
      outcome: r.outcome ?? 'success',
      status: r.status ?? null,
      detail: r.detail ?? null,
    });
  }

  query(q: AuditQuery): { total: number; items: AuditRow[] } {
    return this.#repo.query(q);
  }
}
