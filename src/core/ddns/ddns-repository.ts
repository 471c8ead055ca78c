// What the DDNS use-case stores in SQLite (one row): the settings (never the token) and the
// publisher's state.
import type { DdnsProvider } from '../../schema/ddns.ts';

export interface DdnsSettings {
  provider: DdnsProvider;
  hostname: string;
  zoneId: string | null;
  apiUrl: string | null;
  ipEchoUrls: string[];
}

export interface DdnsState {
  lastIp: string | null;
  lastUpdate: string | null;
  lastError: string | null;
  failures: number;
  /** Epoch ms of the next scheduled attempt; null: none. */
  nextAttemptAt: number | null;
  stopped: boolean;
  /** Cloudflare's id of the record, found once and reused. */
  recordId: string | null;
}

export interface DdnsRecord {
  settings: DdnsSettings;
  state: DdnsState;
}

export interface DdnsRepository {
  get(): DdnsRecord | undefined;
  /** Replaces the settings and resets the state to the one given (a settings change starts over). */
  put(record: DdnsRecord): void;
  saveState(state: DdnsState): void;
}
