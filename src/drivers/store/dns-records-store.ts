// Thin SQL over dns_records (migration "dns records"): core's DnsRecordsRepository.
import type { DnsRecordRow, DnsRecordsRepository } from '../../core/ports/dns-records-repository.ts';
import { type Db, stmt } from '../db.ts';

const COLUMNS = 'id, name, type, value, ttl, created_at';

export class DnsRecordsStore implements DnsRecordsRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  list(): DnsRecordRow[] {
    return stmt(
      this.#db,
      `SELECT ${COLUMNS} FROM dns_records ORDER BY id`,
    ).all() as unknown as DnsRecordRow[];
  }

  add(r: Omit<DnsRecordRow, 'id' | 'created_at'>): DnsRecordRow {
    return stmt(
      this.#db,
      `INSERT INTO dns_records (name, type, value, ttl, created_at) VALUES (?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
    ).get(r.name, r.type, r.value, r.ttl, new Date().toISOString()) as unknown as DnsRecordRow;
  }

  remove(id: number): boolean {
    return Number(stmt(this.#db, 'DELETE FROM dns_records WHERE id = ?').run(id).changes) > 0;
  }
}
