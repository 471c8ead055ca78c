// The blocklist's blocked queries counted per peer (ADR 0020, amendment): cell-dns's pic-dns-blocked
// turns Unbound's rpz-log lines into per-client counts in memory; this service drains them (every
// DRAIN_MS from the background tick, and before each read), maps each client address to its peer
// (the view it matched: a peer's mapped source → its VPN address → its name) and adds them to hourly
// buckets in SQLite, kept BLOCKED_RETENTION_DAYS. Reads sum the buckets of a window (24 h, 7 d, 30 d)
// from the later of its first hour and the last reset. Only counts and names: no query's time,
// nothing of an answered query.
import {
  BLOCKED_RETENTION_DAYS,
  BLOCKED_TOP,
  BLOCKED_WINDOWS,
  type BlockedDrain,
  type BlockedPeerView,
  type BlockedWindow,
} from '../../schema/blocklists.ts';
import type { BlockedHourRow, BlockedStatsRepository } from '../ports/blocked-stats-repository.ts';

export const HOUR_MS = 3600 * 1000;
/** How often the background tick drains cell-dns's counts (the tap's memory is bounded between two). */
export const DRAIN_MS = 30 * 1000;

export interface BlockedClient {
  /** The peer's VPN address (what the counts are kept under). */
  address: string;
  peer: string;
}

export interface BlockedStatsDeps {
  repo: BlockedStatsRepository;
  /** The DNS server port's drainBlocked (undefined: nothing could be read now). */
  drain: () => Promise<BlockedDrain | undefined>;
  /** Client address as Unbound sees it (a peer's mapped source) → its peer, for the peers with a view. */
  clients: () => ReadonlyMap<string, BlockedClient>;
  /** Every peer now: its name, VPN address and blocklists switch. */
  peers: () => ReadonlyArray<{ name: string; address: string; blocklists: boolean }>;
  clock: { now(): number };
  onError?: (what: string, err: unknown) => void;
}

export interface BlockedQueriesView {
  window: BlockedWindow;
  since: string;
  total: number;
  top: Array<{ name: string; count: number }>;
  peers: BlockedPeerView[];
}

/** One drain as hourly rows: same (address, name) summed, clients mapped to their peers. Pure. */
export function bucketDrain(
  drain: BlockedDrain,
  hour: number,
  clients: ReadonlyMap<string, BlockedClient>,
): BlockedHourRow[] {
  const rows = new Map<string, BlockedHourRow>();
  for (const c of drain.counts) {
    const who = clients.get(c.client);
    const address = who?.address ?? c.client;
    const key = `${address}\t${c.name}`;
    const row = rows.get(key);
    if (row) row.count += c.count;
    else rows.set(key, { hour, address, peer: who?.peer ?? null, name: c.name, count: c.count });
  }
  return [...rows.values()];
}

/**
 * Client address (the view's, as Unbound sees it) → peer, from the zone's views (each labelled with a
 * VPN address) and the peers. Pure.
 */
export function clientsOf(
  views: ReadonlyArray<{ address: string; label?: string | undefined }>,
  peers: ReadonlyArray<{ name: string; address: string }>,
): Map<string, BlockedClient> {
  const byVpn = new Map(peers.map((p) => [p.address, p.name]));
  const out = new Map<string, BlockedClient>();
  for (const v of views) {
    const vpn = v.label ?? v.address;
    const peer = byVpn.get(vpn);
    if (peer !== undefined) out.set(v.address, { address: vpn, peer });
  }
  return out;
}

const byAddress = (a: string, b: string) => {
  const n = (s: string) => s.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
  return n(a) - n(b);
};

export class BlockedStatsService {
  readonly #d: BlockedStatsDeps;
  #last = Number.NEGATIVE_INFINITY;
  #collecting: Promise<boolean> | undefined;

  constructor(deps: BlockedStatsDeps) {
    this.#d = deps;
  }

  /**
   * Drains cell-dns's counts into the hourly buckets now; true when counts could be read. One at a
   * time: a call during a drain waits for it (two drains at once would each get part of the counts,
   * which is harmless, but it would cost a second exec for nothing).
   */
  collect(): Promise<boolean> {
    this.#collecting ??= this.#collect().finally(() => {
      this.#collecting = undefined;
    });
    return this.#collecting;
  }

  /** The background step: drain when DRAIN_MS passed since the last one. Never throws. */
  async tick(): Promise<void> {
    if (this.#d.clock.now() - this.#last < DRAIN_MS) return;
    await this.collect().catch((err) => this.#d.onError?.('blocked queries', err));
  }

  /** The counts of a window, fresh (drained first; a failed drain still answers from what is stored). */
  async stats(window: BlockedWindow): Promise<BlockedQueriesView> {
    await this.collect().catch((err) => this.#d.onError?.('blocked queries', err));
    const now = this.#d.clock.now();
    const resetAt = Date.parse(this.#d.repo.resetAt());
    const windowStart = (Math.floor(now / HOUR_MS) - BLOCKED_WINDOWS[window] + 1) * HOUR_MS;
    const sinceMs = Math.max(windowStart, Number.isFinite(resetAt) ? resetAt : windowStart);
    // The reset's hour holds only counts from after it (reset empties every bucket).
    const fromHour = Math.floor(sinceMs / HOUR_MS);
    const totals = this.#d.repo.totals(fromHour);
    const tops = new Map<string, Array<{ name: string; count: number }>>();
    for (const t of this.#d.repo.topByAddress(fromHour, BLOCKED_TOP)) {
      const list = tops.get(t.address) ?? [];
      list.push({ name: t.name, count: t.count });
      tops.set(t.address, list);
    }
    const counted = new Map(totals.map((t) => [t.address, t]));
    const peers: BlockedPeerView[] = this.#d.peers().map((p) => ({
      peer: p.name,
      address: p.address,
      blocking: p.blocklists,
      blocked: counted.get(p.address)?.count ?? 0,
      top: tops.get(p.address) ?? [],
    }));
    const known = new Set(peers.map((p) => p.address));
    for (const t of totals)
      if (!known.has(t.address))
        peers.push({
          peer: null,
          address: t.address,
          blocking: null,
          blocked: t.count,
          top: tops.get(t.address) ?? [],
        });
    peers.sort((a, b) => b.blocked - a.blocked || byAddress(a.address, b.address));
    return {
      window,
      since: new Date(sinceMs).toISOString(),
      total: totals.reduce((s, t) => s + t.count, 0),
      top: this.#d.repo.top(fromHour, BLOCKED_TOP),
      peers,
    };
  }

  /** Forgets every count (the counts still in cell-dns's memory too): counting starts again now. */
  async reset(): Promise<void> {
    await this.collect().catch(() => false);
    this.#d.repo.reset(new Date(this.#d.clock.now()).toISOString());
  }

  async #collect(): Promise<boolean> {
    const now = this.#d.clock.now();
    this.#last = now;
    const drain = await this.#d.drain();
    if (!drain) return false;
    const hour = Math.floor(now / HOUR_MS);
    const rows = bucketDrain(drain, hour, this.#d.clients());
    if (rows.length) this.#d.repo.add(rows);
    this.#d.repo.prune(hour - BLOCKED_RETENTION_DAYS * 24 + 1);
    return true;
  }
}
