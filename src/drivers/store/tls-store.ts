// The one TLS row (id 1): ACME settings and the renewal state. No secret is stored here.
import type { TlsRecord, TlsRepository, TlsSettings, TlsState } from '../../core/tls/tls-repository.ts';
import type { AcmeChallengeChoice } from '../../schema/tls.ts';
import { type Db, stmt } from '../db.ts';

interface Row {
  directory_url: string | null;
  email: string | null;
  eab_kid: string | null;
  challenge: string;
  last_renewal: string | null;
  last_error: string | null;
  failures: number;
  next_attempt_at: number | null;
}

export class TlsStore implements TlsRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
    stmt(db, 'INSERT OR IGNORE INTO tls (id) VALUES (1)').run();
  }

  get(): TlsRecord {
    const r = stmt(this.#db, 'SELECT * FROM tls WHERE id = 1').get() as unknown as Row;
    return {
      settings: {
        directoryUrl: r.directory_url,
        email: r.email,
        eabKid: r.eab_kid,
        challenge: r.challenge as AcmeChallengeChoice,
      },
      state: {
        lastRenewal: r.last_renewal,
        lastError: r.last_error,
        failures: r.failures,
        nextAttemptAt: r.next_attempt_at,
      },
    };
  }

  saveSettings(s: TlsSettings): void {
    stmt(
      this.#db,
      'UPDATE tls SET directory_url = ?, email = ?, eab_kid = ?, challenge = ? WHERE id = 1',
    ).run(s.directoryUrl, s.email, s.eabKid, s.challenge);
  }

  saveState(st: TlsState): void {
    stmt(
      this.#db,
      'UPDATE tls SET last_renewal = ?, last_error = ?, failures = ?, next_attempt_at = ? WHERE id = 1',
    ).run(st.lastRenewal, st.lastError, st.failures, st.nextAttemptAt);
  }
}
