// The owner's DNS records as core keeps them (SQLite table dns_records, drivers/store/dns-records-store.ts).
import type { DnsRecordType } from '../../schema/dns.ts';

export interface DnsRecordRow {
  id: number;
  /** Relative to the zone: `@`, `www`. */
  name: string;
  type: DnsRecordType;
  value: string;
  ttl: number;
  created_at: string;
}

export interface DnsRecordsRepository {
  list(): DnsRecordRow[];
  add(r: Omit<DnsRecordRow, 'id' | 'created_at'>): DnsRecordRow;
  /** false when no record had this id. */
  remove(id: number): boolean;
}
