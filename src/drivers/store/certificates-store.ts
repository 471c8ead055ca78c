// The CA's certificates and its current CRL in SQLite (migration 6). No private key is ever stored here.
import type { CertificatesRepository, NewCertificate, StoredCrl } from '../../core/ports/vault.ts';
import type { CertificateRecord, CertPurpose, RevokeReason } from '../../schema/vault.ts';
import { type Db, stmt } from '../db.ts';

interface Row {
  id: number;
  serial: string;
  common_name: string;
  sans: string;
  purpose: string;
  certificate: string;
  not_before: string;
  not_after: string;
  created_at: string;
  revoked_at: string | null;
  reason: string | null;
}

const COLUMNS =
  'id, serial, common_name, sans, purpose, certificate, not_before, not_after, created_at, revoked_at, reason';

const record = (r: Row): CertificateRecord => ({
  id: r.id,
  serial: r.serial,
  commonName: r.common_name,
  sans: JSON.parse(r.sans) as string[],
  purpose: r.purpose as CertPurpose,
  certificatePem: r.certificate,
  notBefore: r.not_before,
  notAfter: r.not_after,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
  reason: r.reason as RevokeReason | null,
});

export class CertificatesStore implements CertificatesRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  insert(c: NewCertificate): CertificateRecord {
    const row = stmt(
      this.#db,
      `INSERT INTO vault_certificates (serial, common_name, sans, purpose, certificate, not_before, not_after, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
    ).get(
      c.serial,
      c.commonName,
      JSON.stringify(c.sans),
      c.purpose,
      c.certificatePem,
      c.notBefore,
      c.notAfter,
      c.createdAt,
    ) as unknown as Row;
    return record(row);
  }

  list(): CertificateRecord[] {
    return (
      stmt(this.#db, `SELECT ${COLUMNS} FROM vault_certificates ORDER BY id DESC`).all() as unknown as Row[]
    ).map(record);
  }

  get(id: number): CertificateRecord | undefined {
    const r = stmt(this.#db, `SELECT ${COLUMNS} FROM vault_certificates WHERE id = ?`).get(id) as
      | Row
      | undefined;
    return r ? record(r) : undefined;
  }

  bySerial(serial: string): CertificateRecord | undefined {
    const r = stmt(this.#db, `SELECT ${COLUMNS} FROM vault_certificates WHERE serial = ?`).get(serial) as
      | Row
      | undefined;
    return r ? record(r) : undefined;
  }

  revoke(id: number, at: string, reason: RevokeReason): boolean {
    const r = stmt(
      this.#db,
      'UPDATE vault_certificates SET revoked_at = ?, reason = ? WHERE id = ? AND revoked_at IS NULL',
    ).run(at, reason, id);
    return Number(r.changes) === 1;
  }

  revokedUnexpired(now: string): CertificateRecord[] {
    return (
      stmt(
        this.#db,
        `SELECT ${COLUMNS} FROM vault_certificates WHERE revoked_at IS NOT NULL AND not_after > ? ORDER BY id`,
      ).all(now) as unknown as Row[]
    ).map(record);
  }

  crl(): StoredCrl | undefined {
    const r = stmt(
      this.#db,
      'SELECT number, this_update, next_update, der FROM vault_crl WHERE id = 1',
    ).get() as { number: number; this_update: string; next_update: string; der: Uint8Array } | undefined;
    return r
      ? { number: r.number, thisUpdate: r.this_update, nextUpdate: r.next_update, der: new Uint8Array(r.der) }
      : undefined;
  }

  saveCrl(c: StoredCrl): void {
    stmt(
      this.#db,
      `INSERT INTO vault_crl (id, number, this_update, next_update, der) VALUES (1, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET number = excluded.number, this_update = excluded.this_update,
       next_update = excluded.next_update, der = excluded.der`,
    ).run(c.number, c.thisUpdate, c.nextUpdate, c.der);
  }
}
