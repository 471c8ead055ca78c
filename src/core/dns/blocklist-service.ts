// The DNS blocklists' use-cases (ADR 0020): lists from URLs (fetched now, then daily by tick()) or
// from uploaded files, parsed by parseHostsList; the union of the enabled lists' names is what cell-dns
// answers NXDOMAIN for, to the peers with blocking on. Every change ends in DnsService.apply(), which
// hands blocked() to the DNS server port; the names are merged again only after a list changed.
import { createHash } from 'node:crypto';
import {
  BLOCKLIST_MAX_BYTES,
  type BlockedWindow,
  type BlocklistStatsView,
  type BlocklistView,
  MAX_BLOCKLISTS,
  parseHostsList,
} from '../../schema/blocklists.ts';
import { AppError, notFound } from '../errors.ts';
import type { BlocklistFetcher } from '../ports/blocklist-fetcher.ts';
import type { BlocklistRow, BlocklistsRepository } from '../ports/blocklists-repository.ts';
import type { BlockedNames } from '../ports/dns-server.ts';
import type { BlockedQueriesView } from './blocked-stats.ts';

/** A URL list is fetched again a day after its last attempt, an hour after a failed one. */
export const REFRESH_MS = 24 * 3600 * 1000;
export const RETRY_MS = 3600 * 1000;

export interface BlocklistDeps {
  repo: BlocklistsRepository;
  fetcher: BlocklistFetcher;
  clock: { now(): number };
  /** The cell's zone: its names are never blocked (a list must not hide the cell from its peers). */
  zone: () => string;
  /** Applies the DNS state (DnsService.apply); never throws. */
  apply: () => Promise<unknown>;
  blockedQueries: () => Promise<number | undefined>;
  peers: () => ReadonlyArray<{ blocklists: boolean }>;
  /** The blocked queries per peer over a window (BlockedStatsService), and their reset. */
  counts: {
    stats(window: BlockedWindow): Promise<BlockedQueriesView>;
    reset(): Promise<void>;
  };
  onError?: (what: string, err: unknown) => void;
}

const field = (f: string, message: string, code: 'conflict' | 'validation_failed' = 'validation_failed') =>
  new AppError(code, message, { fields: [{ field: f, message }] });

const view = (r: BlocklistRow): BlocklistView => ({
  id: r.id,
  kind: r.kind,
  source: r.source,
  enabled: r.enabled,
  domains: r.domain_count,
  invalid_lines: r.invalid_count,
  last_fetched: r.fetched_at,
  last_error: r.last_error,
});

export class BlocklistService {
  readonly #d: BlocklistDeps;
  #merged: { key: string; names: string[]; digest: string } | undefined;
  #version = 0;
  readonly #attempts = new Map<number, number>();
  #refreshing: Promise<void> | undefined;

  constructor(deps: BlocklistDeps) {
    this.#d = deps;
  }

  list(): BlocklistView[] {
    return this.#d.repo.list().map(view);
  }

  /** Adds a URL list and fetches it now; a failed fetch keeps the list, with its error shown. */
  async addUrl(url: string): Promise<BlocklistView> {
    const rows = this.#d.repo.list();
    if (rows.length >= MAX_BLOCKLISTS) throw new AppError('conflict', `At most ${MAX_BLOCKLISTS} blocklists`);
    if (rows.some((r) => r.kind === 'url' && r.source === url))
      throw field('url', 'This list is already added', 'conflict');
    const row = this.#d.repo.add({ kind: 'url', source: url });
    await this.#fetch(row);
    await this.#changed();
    return view(this.#d.repo.byId(row.id)!);
  }

  async upload(name: string, body: Buffer): Promise<BlocklistView> {
    if (body.length > BLOCKLIST_MAX_BYTES) throw new AppError('payload_too_large', 'The file is too large');
    if (this.#d.repo.list().length >= MAX_BLOCKLISTS)
      throw new AppError('conflict', `At most ${MAX_BLOCKLISTS} blocklists`);
    const parsed = parseHostsList(body.toString('utf8'));
    if (!parsed.domains.length)
      throw field('(body)', `holds no name to block (${parsed.invalid} invalid lines)`);
    const row = this.#d.repo.add({ kind: 'upload', source: name });
    this.#d.repo.setNames(row.id, parsed.domains, parsed.invalid, this.#iso());
    await this.#changed();
    return view(this.#d.repo.byId(row.id)!);
  }

  async setEnabled(id: number, enabled: boolean): Promise<BlocklistView> {
    if (!this.#d.repo.setEnabled(id, enabled)) throw notFound(`Blocklist ${id}`);
    await this.#changed();
    return view(this.#d.repo.byId(id)!);
  }

  async remove(id: number): Promise<void> {
    if (!this.#d.repo.remove(id)) throw notFound(`Blocklist ${id}`);
    this.#attempts.delete(id);
    await this.#changed();
  }

  /** Fetches every URL list now (POST /api/dns/blocklists/refresh). */
  async refresh(): Promise<BlocklistView[]> {
    await this.#refresh(() => true);
    return this.list();
  }

  /** The background step: fetch the URL lists that are due. Never throws; no timer of its own. */
  async tick(): Promise<void> {
    const now = this.#d.clock.now();
    await this.#refresh((r) => {
      const last = Math.max(this.#attempts.get(r.id) ?? 0, r.fetched_at ? Date.parse(r.fetched_at) : 0);
      return now - last >= (r.last_error ? RETRY_MS : REFRESH_MS);
    }).catch((err) => this.#d.onError?.('blocklist refresh', err));
  }

  /** What is blocked, and the queries blocked per peer over the window (ADR 0020, amendment). */
  async stats(window: BlockedWindow = '24h'): Promise<BlocklistStatsView> {
    const counts = await this.#d.counts.stats(window);
    return {
      blocked_names: this.#mergedNames().names.length,
      blocked_queries: (await this.#d.blockedQueries()) ?? null,
      peers_blocking: this.#d.peers().filter((p) => p.blocklists).length,
      ...counts,
    };
  }

  /** Forgets the per-peer counts: counting starts again now. */
  resetStats(): Promise<void> {
    return this.#d.counts.reset();
  }

  /** What the DNS server port loads: names only read when their digest is new to it. */
  blocked(): BlockedNames {
    const m = this.#mergedNames();
    return { digest: m.digest, names: () => m.names };
  }

  #mergedNames(): { names: string[]; digest: string } {
    const zone = this.#d.zone();
    const key = `${this.#version} ${zone}`;
    if (this.#merged?.key === key) return this.#merged;
    const inZone = (n: string) => n === zone || n.endsWith(`.${zone}`);
    const names = [...new Set(this.#d.repo.enabledNames())].filter((n) => !inZone(n)).sort();
    const digest = createHash('sha256').update(names.join('\n')).digest('hex');
    this.#merged = { key, names, digest };
    return this.#merged;
  }

  async #refresh(due: (r: BlocklistRow) => boolean): Promise<void> {
    // One refresh at a time: a tick during a manual refresh waits for it instead of fetching twice.
    while (this.#refreshing) await this.#refreshing;
    const run = (async () => {
      const rows = this.#d.repo.list().filter((r) => r.kind === 'url' && due(r));
      if (!rows.length) return;
      let changed = false;
      for (const r of rows) changed = (await this.#fetch(r)) || changed;
      if (changed) await this.#changed();
    })();
    this.#refreshing = run.finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /** true when the list's names were replaced. */
  async #fetch(r: BlocklistRow): Promise<boolean> {
    this.#attempts.set(r.id, this.#d.clock.now());
    try {
      const parsed = parseHostsList(await this.#d.fetcher.fetch(r.source));
      if (!parsed.domains.length) throw new Error(`no name to block (${parsed.invalid} invalid lines)`);
      if (!this.#d.repo.byId(r.id)) return false; // removed while it was fetched
      this.#d.repo.setNames(r.id, parsed.domains, parsed.invalid, this.#iso());
      return true;
    } catch (err) {
      if (this.#d.repo.byId(r.id)) this.#d.repo.setError(r.id, (err as Error).message.slice(0, 200));
      return false;
    }
  }

  async #changed(): Promise<void> {
    this.#version++;
    await this.#d.apply();
  }

  #iso(): string {
    return new Date(this.#d.clock.now()).toISOString();
  }
}
