// The DNS blocklists as core keeps them (SQLite table dns_blocklists, drivers/store/blocklists-store.ts).
// A list's names are stored parsed and validated, one a line; list() never reads them (a list can
// hold a million names), names() does.

export interface BlocklistRow {
  id: number;
  kind: 'url' | 'upload';
  /** The URL, or the uploaded file's name. */
  source: string;
  enabled: boolean;
  domain_count: number;
  invalid_count: number;
  fetched_at: string | null;
  last_error: string | null;
  created_at: string;
}

export interface BlocklistsRepository {
  list(): BlocklistRow[];
  byId(id: number): BlocklistRow | undefined;
  add(r: { kind: BlocklistRow['kind']; source: string }): BlocklistRow;
  /** New names (a fetch or an upload that parsed): the counts and fetched_at follow, the error clears. */
  setNames(id: number, names: readonly string[], invalid: number, at: string): void;
  /** A failed fetch: the names from before stay. */
  setError(id: number, error: string): void;
  setEnabled(id: number, enabled: boolean): boolean;
  remove(id: number): boolean;
  /** The names of every enabled list (with repeats across lists). */
  enabledNames(): string[];
}
