// The one DDNS row (id 1): settings and the publisher's state. The token is never stored here.
import type { DdnsRecord, DdnsRepository, DdnsState } from '../../core/ddns/ddns-repository.ts';
import type { DdnsProvider } from '../../schema/ddns.ts';
import { type Db, stmt, transaction } from '../db.ts';

interface Row {
  provider: string;
  hostname: string;
  zone_id: string | null;
  api_url: string | null;
  ip_echo_urls: string;
  last_ip: string | null;
  last_update: string | null;
  last_error: string | null;
  failures: number;
  next_attempt_at: number | null;
  stopped: number;
  record_id: string | null;
}

export class DdnsStore implements DdnsRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  get(): DdnsRecord | undefined {
    const r = stmt(this.#db, 'SELECT * FROM ddns WHERE id = 1').get() as Row | undefined;
    if (!r) return undefined;
    return {
      settings: {
        provider: r.provider as DdnsProvider,
        hostname: r.hostname,
        zoneId: r.zone_id,
        apiUrl: r.api_url,
        ipEchoUrls: JSON.parse(r.ip_echo_urls) as string[],
      },
      state: {
        lastIp: r.last_ip,
        lastUpdate: r.last_update,
        lastError: r.last_error,
        failures: r.failures,
        nextAttemptAt: r.next_attempt_at,
        stopped: r.stopped === 1,
        recordId: r.record_id,
      },
    };
  }

  put({ settings: s, state }: DdnsRecord): void {
    transaction(this.#db, () => {
      stmt(
        this.#db,
        `INSERT INTO ddns (id, provider, hostname, zone_id, api_url, ip_echo_urls) VALUES (1, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET provider = excluded.provider, hostname = excluded.hostname,
         zone_id = excluded.zone_id, api_url = excluded.api_url, ip_echo_urls = excluded.ip_echo_urls`,
      ).run(s.provider, s.hostname, s.zoneId, s.apiUrl, JSON.stringify(s.ipEchoUrls));
      this.saveState(state);
    });
  }

  saveState(st: DdnsState): void {
    stmt(
      this.#db,
      `UPDATE ddns SET last_ip = ?, last_update = ?, last_error = ?, failures = ?, next_attempt_at = ?,
         stopped = ?, record_id = ? WHERE id = 1`,
    ).run(
      st.lastIp,
      st.lastUpdate,
      st.lastError,
      st.failures,
      st.nextAttemptAt,
      st.stopped ? 1 : 0,
      st.recordId,
    );
  }
}
