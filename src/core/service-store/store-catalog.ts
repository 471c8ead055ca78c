// The store's catalog: the built-in services plus, when `store_index_url` is set, the remote index's
// (docs/store/remote-index.md). The index is untrusted input: each entry must pass the manifest
// schema and the policy, may use only images pinned by digest (a remote service has no folder here
// to build from), and may not take a built-in id (the built-in wins). A refused entry is left out and
// reported. The index is fetched at most every `ttlMs` (and again after a failure every `retryMs`),
// and at once after the URL changes; a failed fetch keeps the last good list from the same URL and
// the built-in catalog, and says why.
import { parseServiceManifest, type ServiceManifest } from '../../schema/service-manifest.ts';
import type { IndexProblem, IndexStatus } from '../../schema/service-store.ts';
import type { CatalogService, ServiceCatalogPort } from '../ports/service-store.ts';
import type { StoreIndexFetcher } from '../ports/store-index.ts';
import { checkManifest, type HeldPort } from './manifest-policy.ts';

/** More would be a dump, not an index; and what the UI lists must stay short. */
export const MAX_INDEX_SERVICES = 200;
const MAX_PROBLEMS = 50;
const SLUG = /^[a-z][a-z0-9-]{0,62}$/;

export interface MergedIndex {
  services: CatalogService[];
  problems: IndexProblem[];
}

/** The index's usable services beside the built-in ones, and every entry refused with why. */
export function mergeIndex(
  builtin: readonly CatalogService[],
  raw: unknown,
  heldPorts: readonly HeldPort[],
): MergedIndex {
  const list = (raw as { services?: unknown } | null)?.services;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !Array.isArray(list))
    return { services: [], problems: [{ message: 'the index is not an object with a "services" list' }] };
  const problems: IndexProblem[] = [];
  const refuse = (entry: unknown, message: string) => {
    const id = (entry as { id?: unknown } | null)?.id;
    problems.push({ ...(typeof id === 'string' && SLUG.test(id) ? { id } : {}), message });
  };
  if (list.length > MAX_INDEX_SERVICES)
    problems.push({
      message: `the index lists ${list.length} services; only the first ${MAX_INDEX_SERVICES} are read`,
    });
  const builtinIds = new Set(builtin.map((b) => b.manifest.id));
  const parsed: ServiceManifest[] = [];
  for (const [i, entry] of list.slice(0, MAX_INDEX_SERVICES).entries()) {
    const p = parseServiceManifest(entry);
    if (!p.ok) {
      refuse(entry, `entry ${i + 1}: ${p.problems.map((x) => `${x.path}: ${x.message}`).join('; ')}`);
      continue;
    }
    const m = p.manifest;
    const built = m.containers.filter((c) => 'build' in c.image).map((c) => c.name);
    if (built.length > 0) {
      refuse(
        m,
        `a remote service's images must be pulled by digest (image.ref); ${built.join(', ')} would be built`,
      );
      continue;
    }
    if (builtinIds.has(m.id)) {
      refuse(m, `the id ${m.id} is a built-in service's; the built-in one is kept`);
      continue;
    }
    if (parsed.some((o) => o.id === m.id)) {
      refuse(m, `the id ${m.id} is listed twice; the first is kept`);
      continue;
    }
    parsed.push(m);
  }
  const catalogIds = [...builtinIds, ...parsed.map((m) => m.id)];
  const services: CatalogService[] = [];
  for (const m of parsed) {
    const c = checkManifest(m, { catalogIds, installed: [], heldPorts });
    if (!c.ok)
      refuse(m, `refused by the policy: ${c.problems.map((x) => `${x.path}: ${x.message}`).join('; ')}`);
    else services.push({ manifest: m, dir: '', source: 'index' });
  }
  if (problems.length > MAX_PROBLEMS) problems.splice(MAX_PROBLEMS, problems.length, { message: 'and more' });
  return { services, problems };
}

export interface StoreCatalogDeps {
  builtin: ServiceCatalogPort;
  fetcher: StoreIndexFetcher;
  /** store_index_url, read at each call (the config may change). */
  url: () => string | undefined;
  /** The host ports the core holds, for the policy. */
  heldPorts: () => readonly HeldPort[];
  ttlMs?: number;
  retryMs?: number;
  now?: () => Date;
  log?: (level: 'info' | 'warn', fields: Record<string, unknown>, msg: string) => void;
}

interface Fetched {
  url: string;
  /** When the next fetch is due (ms). */
  due: number;
  fetchedAt: string | null;
  services: CatalogService[];
  problems: IndexProblem[];
  error?: string;
}

export class StoreCatalog implements ServiceCatalogPort {
  readonly #d: StoreCatalogDeps;
  #builtin: CatalogService[] | undefined;
  #index: Fetched | undefined;
  #inflight: Promise<void> | undefined;

  constructor(deps: StoreCatalogDeps) {
    this.#d = deps;
  }

  #now = () => this.#d.now?.() ?? new Date();

  async list(): Promise<CatalogService[]> {
    this.#builtin ??= (await this.#d.builtin.list()).map((b) => ({ ...b, source: 'builtin' as const }));
    const url = this.#d.url();
    if (!url) return this.#builtin;
    if (this.#index?.url !== url || this.#now().getTime() >= this.#index.due) await this.refresh();
    const remote = this.#index?.url === url ? this.#index.services : [];
    return [...this.#builtin, ...remote].sort((a, b) => a.manifest.id.localeCompare(b.manifest.id));
  }

  status(): IndexStatus | undefined {
    const url = this.#d.url();
    if (!url) return undefined;
    const i = this.#index?.url === url ? this.#index : undefined;
    return {
      url,
      fetched_at: i?.fetchedAt ?? null,
      services: i?.services.length ?? 0,
      ...(i?.error ? { error: i.error } : i ? {} : { error: 'not fetched yet' }),
      problems: i?.problems ?? [],
    };
  }

  /** Fetches the index now (one fetch at a time; callers during it wait for the same one). */
  refresh(): Promise<void> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #fetch(): Promise<void> {
    const url = this.#d.url();
    if (!url) return;
    this.#builtin ??= (await this.#d.builtin.list()).map((b) => ({ ...b, source: 'builtin' as const }));
    const now = this.#now();
    const previous = this.#index?.url === url ? this.#index : undefined;
    try {
      const raw = await this.#d.fetcher.fetch(url);
      const merged = mergeIndex(this.#builtin, raw, this.#d.heldPorts());
      this.#index = {
        url,
        due: now.getTime() + (this.#d.ttlMs ?? 10 * 60_000),
        fetchedAt: now.toISOString(),
        ...merged,
      };
      for (const p of merged.problems)
        this.#d.log?.(
          'warn',
          { index: url, service: p.id, problem: p.message },
          'a store index entry is refused',
        );
    } catch (err) {
      const error = (err as Error).message;
      this.#index = {
        url,
        due: now.getTime() + (this.#d.retryMs ?? 60_000),
        fetchedAt: previous?.fetchedAt ?? null,
        services: previous?.services ?? [],
        problems: previous?.problems ?? [],
        error,
      };
      this.#d.log?.('warn', { index: url, err: error }, 'the store index could not be fetched');
    }
  }
}
