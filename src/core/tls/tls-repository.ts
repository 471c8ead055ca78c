// What the TLS use-case keeps in SQLite (one row): the ACME settings (never the EAB HMAC key, which
// is a 0600 file) and the renewal state. The certificates and keys are 0600 files (TlsFiles).
import type { AcmeChallengeChoice } from '../../schema/tls.ts';

export interface TlsSettings {
  /** null: Let's Encrypt's production directory. */
  directoryUrl: string | null;
  email: string | null;
  eabKid: string | null;
  challenge: AcmeChallengeChoice;
}

export interface TlsState {
  lastRenewal: string | null;
  lastError: string | null;
  failures: number;
  /** Epoch ms before which the tick does not order again (backoff after an error); null: no wait. */
  nextAttemptAt: number | null;
}

export interface TlsRecord {
  settings: TlsSettings;
  state: TlsState;
}

export interface TlsRepository {
  get(): TlsRecord;
  saveSettings(settings: TlsSettings): void;
  saveState(state: TlsState): void;
}
