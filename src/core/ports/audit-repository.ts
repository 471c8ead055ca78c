// The audit trail's storage; the SQLite AuditStore implements it (and bounds how many rows and bytes
// it keeps). Anonymous refusals are counted in a table of their own, so they never evict real rows.
import type {
  AnonymousRefusal,
  AnonymousRefusalHit,
  AuditEntry,
  AuditQuery,
  AuditRow,
} from '../../schema/audit.ts';

export interface AuditRepository {
  append(entry: AuditEntry): void;
  query(q: AuditQuery): { total: number; items: AuditRow[] };
  /** Adds one to the source's row for that minute (a new row when there is none). */
  countRefusal(hit: AnonymousRefusalHit): void;
  refusals(q: { source?: string | undefined; limit: number; offset: number }): {
    total: number;
    items: AnonymousRefusal[];
  };
}
