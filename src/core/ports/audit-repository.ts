// The audit trail's storage; the SQLite AuditStore implements it (and bounds how many rows it keeps).
import type { AuditEntry, AuditQuery, AuditRow } from '../../schema/audit.ts';

export interface AuditRepository {
  append(entry: AuditEntry): void;
  query(q: AuditQuery): { total: number; items: AuditRow[] };
}
