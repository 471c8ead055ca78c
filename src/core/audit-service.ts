// The one writer of audit rows: API requests, the health monitor and host commands all record through
// it, so every row has the same shape and timestamp format, and every field is capped and escaped
// (audit-fields.ts). No secret belongs in any field.
//
// Requests refused without a session (anyone on the network can send them, 1,500 a second) are not
// rows of the trail: refusal() counts them per source and minute in a table of their own, so that
// noise can neither fill the disk nor push an authenticated action out of the kept rows.
import type { AnonymousRefusal, AuditEntry, AuditQuery, AuditRow } from '../schema/audit.ts';
import { auditText, auditTextOrNull, AUDIT_FIELD_MAX as MAX } from './audit-fields.ts';
import type { AuditRepository } from './ports/audit-repository.ts';

/** What a writer says; who (username, role), outcome, status and detail default to none / success. */
export type AuditRecord = Pick<AuditEntry, 'source' | 'action'> &
  Partial<Omit<AuditEntry, 'ts' | 'source' | 'action'>>;

export interface AuditRefusal {
  source: string;
  action: string;
  status: number | null;
  target?: string | null | undefined;
}

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
      username: auditTextOrNull(r.username, MAX.username),
      role: auditTextOrNull(r.role, MAX.role),
      source: auditText(r.source, MAX.source),
      action: auditText(r.action, MAX.action),
      target: auditTextOrNull(r.target, MAX.target),
      outcome: r.outcome ?? 'success',
      status: r.status ?? null,
      detail: auditTextOrNull(r.detail, MAX.detail),
    });
  }

  /** A request refused without a session: one more in its source's count for this minute. */
  refusal(r: AuditRefusal): void {
    this.#repo.countRefusal({
      minute: `${this.#now().toISOString().slice(0, 16)}Z`,
      source: auditText(r.source, MAX.source),
      action: auditText(r.action, MAX.action),
      status: r.status,
      target: auditTextOrNull(r.target, MAX.target),
    });
  }

  query(q: AuditQuery): { total: number; items: AuditRow[] } {
    return this.#repo.query(q);
  }

  refusals(q: { source?: string | undefined; limit: number; offset: number }): {
    total: number;
    items: AnonymousRefusal[];
  } {
    return this.#repo.refusals(q);
  }
}
