// Thin SQL over the tables of migration "service hooks": a store service's settings (secrets sealed
// with sealed-text.ts under a key of their own, never in clear in the database), the DNS records its
// hook listed, and its certificate state. Rows are checked on the way out: a restored database may
// carry crafted ones, and what is served in the zone must pass the same rules as at collection.
import type {
  ServiceDnsRecordRow,
  ServiceDnsRecordsRepository,
  ServiceSettingsRepository,
  ServiceSettingsRow,
  ServiceTlsRepository,
  ServiceTlsState,
} from '../../core/ports/service-hooks.ts';
import { DNS_VALUE } from '../../schema/dns.ts';
import { type Db, stmt, transaction } from '../db.ts';
import type { SealedText } from '../secrets/sealed-text.ts';

interface SettingsRow {
  settings: string;
  secrets: string | null;
  applied: number;
  apply_error: string | null;
  updated_at: string;
}

export class ServiceSettingsStore implements ServiceSettingsRepository {
  readonly #db: Db;
  readonly #sealed: SealedText;
  constructor(db: Db, sealed: SealedText) {
    this.#db = db;
    this.#sealed = sealed;
  }

  get(serviceId: string): ServiceSettingsRow | undefined {
    const r = stmt(this.#db, 'SELECT * FROM service_settings WHERE service_id = ?').get(serviceId) as
      | SettingsRow
      | undefined;
    if (!r) return undefined;
    const values = JSON.parse(r.settings) as ServiceSettingsRow['values'];
    const secrets = r.secrets ? (JSON.parse(this.#sealed.open(r.secrets)) as Record<string, string>) : {};
    return {
      values: typeof values === 'object' && values !== null ? values : {},
      secrets: typeof secrets === 'object' && secrets !== null ? secrets : {},
      applied: r.applied === 1,
      applyError: r.apply_error,
      updatedAt: r.updated_at,
    };
  }

  put(serviceId: string, row: ServiceSettingsRow): void {
    const secrets = Object.keys(row.secrets).length ? this.#sealed.seal(JSON.stringify(row.secrets)) : null;
    stmt(
      this.#db,
      `INSERT INTO service_settings (service_id, settings, secrets, applied, apply_error, updated_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (service_id) DO UPDATE SET settings = excluded.settings, secrets = excluded.secrets,
         applied = excluded.applied, apply_error = excluded.apply_error, updated_at = excluded.updated_at`,
    ).run(serviceId, JSON.stringify(row.values), secrets, row.applied ? 1 : 0, row.applyError, row.updatedAt);
  }
}

interface RecordRow {
  service_id: string;
  name: string;
  type: 'MX' | 'TXT' | 'SRV';
  value: string;
  ttl: number;
}

const NAME = /^(@|_?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\._?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*)$/;

const toRecord = (r: RecordRow): ServiceDnsRecordRow => ({
  serviceId: r.service_id,
  name: r.name,
  type: r.type,
  value: r.value,
  ttl: r.ttl,
});

/** The zone writes these verbatim: a row that fails the rules again is left out. */
const sound = (r: RecordRow) =>
  NAME.test(r.name) && r.name.length <= 253 && DNS_VALUE[r.type]?.safeParse(r.value).success === true;

export class ServiceDnsRecordsStore implements ServiceDnsRecordsRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  list(): ServiceDnsRecordRow[] {
    return (
      stmt(
        this.#db,
        'SELECT * FROM service_dns_records ORDER BY service_id, name, type, value',
      ).all() as unknown as RecordRow[]
    )
      .filter(sound)
      .map(toRecord);
  }

  ofService(serviceId: string): ServiceDnsRecordRow[] {
    return (
      stmt(this.#db, 'SELECT * FROM service_dns_records WHERE service_id = ? ORDER BY name, type, value').all(
        serviceId,
      ) as unknown as RecordRow[]
    )
      .filter(sound)
      .map(toRecord);
  }

  replace(serviceId: string, rows: readonly Omit<ServiceDnsRecordRow, 'serviceId'>[]): void {
    transaction(this.#db, () => {
      stmt(this.#db, 'DELETE FROM service_dns_records WHERE service_id = ?').run(serviceId);
      const add = stmt(
        this.#db,
        'INSERT OR IGNORE INTO service_dns_records (service_id, name, type, value, ttl) VALUES (?, ?, ?, ?, ?)',
      );
      for (const r of rows) add.run(serviceId, r.name, r.type, r.value, r.ttl);
    });
  }

  remove(serviceId: string): void {
    stmt(this.#db, 'DELETE FROM service_dns_records WHERE service_id = ?').run(serviceId);
  }
}

interface TlsRow {
  service_id: string;
  domain: string;
  names: string;
  source: ServiceTlsState['source'];
  not_after: string | null;
  written_at: string;
}

export class ServiceTlsStore implements ServiceTlsRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  get(serviceId: string): ServiceTlsState | undefined {
    const r = stmt(this.#db, 'SELECT * FROM service_tls WHERE service_id = ?').get(serviceId) as
      | TlsRow
      | undefined;
    return r
      ? {
          serviceId: r.service_id,
          domain: r.domain,
          names: JSON.parse(r.names) as string[],
          source: r.source,
          notAfter: r.not_after,
          writtenAt: r.written_at,
        }
      : undefined;
  }

  put(s: ServiceTlsState): void {
    stmt(
      this.#db,
      `INSERT INTO service_tls (service_id, domain, names, source, not_after, written_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (service_id) DO UPDATE SET domain = excluded.domain, names = excluded.names,
         source = excluded.source, not_after = excluded.not_after, written_at = excluded.written_at`,
    ).run(s.serviceId, s.domain, JSON.stringify(s.names), s.source, s.notAfter, s.writtenAt);
  }

  remove(serviceId: string): void {
    stmt(this.#db, 'DELETE FROM service_tls WHERE service_id = ?').run(serviceId);
  }
}
