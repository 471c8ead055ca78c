// The blocklist's blocked-query counts as core keeps them (SQLite table dns_blocked_hourly,
// drivers/store/blocked-stats-store.ts; ADR 0020 amendment): per hour, per client (a peer's VPN
// address) and per name, a count. Never a query's time or anything of an answered query.

export interface BlockedHourRow {
  /** Hours since the Unix epoch (UTC): the bucket. */
  hour: number;
  /** The peer's VPN address (or the client address Unbound saw, when no view maps it). */
  address: string;
  /** The peer's name when it was counted; null when no peer had the address. */
  peer: string | null;
  name: string;
  count: number;
}

export interface BlockedAddressTotal {
  address: string;
  /** The peer name of its latest row. */
  peer: string | null;
  count: number;
}

export interface BlockedStatsRepository {
  /** Adds the counts to their buckets (one transaction). */
  add(rows: readonly BlockedHourRow[]): void;
  /** Drops the buckets before this hour. */
  prune(beforeHour: number): void;
  /** Per address, the queries counted from this hour on, highest first. */
  totals(fromHour: number): BlockedAddressTotal[];
  /** The names counted most from this hour on: all addresses together, or each address's own. */
  top(fromHour: number, limit: number): Array<{ name: string; count: number }>;
  topByAddress(fromHour: number, limit: number): Array<{ address: string; name: string; count: number }>;
  /** When counting (re)started: the migration's time, or the last reset (ISO). */
  resetAt(): string;
  /** Forgets every count, from `at` on. */
  reset(at: string): void;
}
