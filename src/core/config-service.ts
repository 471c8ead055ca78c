// The cell's configuration: validated as a whole on every change, stored in one transaction.
// Fields in RESTART_FIELDS wait in `applied` until POST /api/config/apply; the rest apply at once.
import {
  type CellConfig,
  type ConfigPatch,
  cellConfigSchema,
  defaultConfig,
  defaultDomain,
  RESTART_FIELDS,
} from '../schema/config.ts';
import type { SetupInput } from '../schema/setup.ts';
import { AppError } from './errors.ts';
import type { ConfigRepository } from './ports/config-repository.ts';

export interface PendingChange {
  field: string;
  from: unknown;
  to: unknown;
  restart: string[];
}

export interface Pending {
  pending: boolean;
  changes: PendingChange[];
  restart: string[];
}

/** Reaches the data plane; `pic serve` without Docker uses one that reports it is not running. */
export interface DataPlanePort {
  running(): Promise<boolean>;
  applyConfig(config: CellConfig, changes: PendingChange[]): Promise<{ restarted: string[] }>;
}

export type ConfigListener = (config: CellConfig) => void;

/**
 * Runs before the data plane when pending changes are applied; throwing keeps them pending (the
 * TLS service obtains the new domain's certificate here, ADR 0019).
 */
export type BeforeApply = (target: CellConfig, changes: PendingChange[]) => Promise<void>;

function getPath(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop()!;
  let cur = obj;
  for (const k of keys) cur = cur[k] as Record<string, unknown>;
  cur[last] = structuredClone(value);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export class ConfigService {
  readonly #store: ConfigRepository;
  readonly #listeners: ConfigListener[] = [];
  readonly #beforeApply: BeforeApply[] = [];
  readonly #appliedListeners: ConfigListener[] = [];
  #current: CellConfig;
  #applied: CellConfig;

  constructor(store: ConfigRepository) {
    this.#store = store;
    const saved = store.load();
    if (saved) {
      this.#current = cellConfigSchema.parse(saved.current);
      this.#applied = cellConfigSchema.parse(saved.applied);
    } else {
      this.#current = defaultConfig();
      this.#applied = defaultConfig();
      store.save(this.#current, this.#applied);
    }
  }

  get(): CellConfig {
    return structuredClone(this.#current);
  }

  /** The cell's name (no copy of the whole config: GET /api/auth/me answers it on every page load). */
  cellName(): string {
    return this.#current.identity.cell_name;
  }

  /** What the data plane runs: restart fields at their last applied value. */
  applied(): CellConfig {
    return structuredClone(this.#applied);
  }

  onChange(listener: ConfigListener): void {
    this.#listeners.push(listener);
  }

  beforeApply(step: BeforeApply): void {
    this.#beforeApply.push(step);
  }

  /** After an apply succeeded (what follows the applied config, such as the DNS zone, catches up). */
  onApplied(listener: ConfigListener): void {
    this.#appliedListeners.push(listener);
  }

  /** Validates a patch against the whole resulting configuration; writes nothing on error. */
  update(patch: ConfigPatch): { config: CellConfig; pending: Pending } {
    const next = structuredClone(this.#current);
    if (patch.identity) Object.assign(next.identity, patch.identity);
    if (patch.network) Object.assign(next.network, patch.network);
    if (patch.logging?.levels) Object.assign(next.logging.levels, patch.logging.levels);
    if (patch.image_verification) next.image_verification = patch.image_verification;
    if (patch.store_index_url === null) delete next.store_index_url;
    else if (patch.store_index_url !== undefined) next.store_index_url = patch.store_index_url;

    const id = patch.identity;
    if (id && (id.domain_mode || id.cell_name) && !id.domain) {
      const derived = defaultDomain(next.identity.domain_mode, next.identity.cell_name);
      if (derived) next.identity.domain = derived;
      else if (id.domain_mode === 'custom' && this.#current.identity.domain_mode !== 'custom') {
        throw new AppError('validation_failed', 'Invalid identity.domain', {
          fields: [{ field: 'identity.domain', message: 'is required when domain_mode is custom' }],
        });
      }
    }
    this.#commit(next);
    return { config: this.get(), pending: this.pending() };
  }

  /** The identity chosen in the setup wizard, validated but not yet stored. */
  withIdentity(input: SetupInput): CellConfig {
    const next = structuredClone(this.#current);
    next.identity.cell_name = input.cell_name;
    next.identity.domain_mode = input.domain_mode;
    next.identity.domain = input.domain ?? defaultDomain(input.domain_mode, input.cell_name)!;
    next.identity.timezone = input.timezone;
    return validate(next);
  }

  /** Replaces both current and applied: the first configuration has nothing running to restart. */
  replaceAll(config: CellConfig): void {
    const valid = validate(config);
    this.#store.save(valid, valid);
    this.#current = structuredClone(valid);
    this.#applied = structuredClone(valid);
    for (const l of this.#listeners) l(this.get());
  }

  /** Reads the stored configuration again: a restore replaced it underneath (ADR 0021). */
  reload(): void {
    const saved = this.#store.load();
    if (!saved) return;
    this.#current = cellConfigSchema.parse(saved.current);
    this.#applied = cellConfigSchema.parse(saved.applied);
    for (const l of this.#listeners) l(this.get());
  }

  /**
   * Renders every daemon's configuration from what is applied and reconciles the containers with it
   * (after a restore: the running ones were made from the state before it).
   */
  reapply(dataPlane: DataPlanePort): Promise<{ restarted: string[] }> {
    const run = this.#applying.then(async () =>
      (await dataPlane.running()) ? dataPlane.applyConfig(this.applied(), []) : { restarted: [] },
    );
    this.#applying = run.catch(() => undefined);
    return run;
  }

  pending(): Pending {
    const changes: PendingChange[] = [];
    for (const [field, restart] of Object.entries(RESTART_FIELDS)) {
      const from = getPath(this.#applied, field);
      const to = getPath(this.#current, field);
      if (!same(from, to)) changes.push({ field, from, to, restart });
    }
    const restart = [...new Set(changes.flatMap((c) => c.restart))].sort();
    return { pending: changes.length > 0, changes, restart };
  }

  #applying: Promise<unknown> = Promise.resolve();

  /**
   * Applies what is pending. Applies run one at a time, and what is marked applied is the snapshot
   * handed to the data plane: a PUT that lands while containers are being recreated stays pending.
   */
  apply(
    dataPlane: DataPlanePort,
  ): Promise<{ applied: PendingChange[]; restarted: string[]; data_plane: string }> {
    const run = this.#applying.then(() => this.#apply(dataPlane));
    this.#applying = run.catch(() => undefined);
    return run;
  }

  async #apply(
    dataPlane: DataPlanePort,
  ): Promise<{ applied: PendingChange[]; restarted: string[]; data_plane: string }> {
    const target = this.get();
    const { changes } = this.pending();
    for (const step of this.#beforeApply) await step(target, changes);
    const running = await dataPlane.running();
    let restarted: string[] = [];
    if (running) {
      try {
        ({ restarted } = await dataPlane.applyConfig(target, changes));
      } catch (err) {
        // A typed error's message is meant for the caller (Caddy's reason for refusing its new
        // config, say); anything else is only logged.
        const why = err instanceof AppError ? `: ${err.message}` : '';
        throw new AppError(
          'unavailable',
          `The data plane could not apply the changes; they stay pending${why}`,
          {
            cause: err,
          },
        );
      }
    }
    const applied = structuredClone(this.#applied);
    for (const field of Object.keys(RESTART_FIELDS)) {
      setPath(applied as unknown as Record<string, unknown>, field, getPath(target, field));
    }
    this.#store.save(this.#current, applied);
    this.#applied = applied;
    for (const l of this.#appliedListeners) l(this.applied());
    return { applied: changes, restarted, data_plane: running ? 'running' : 'not_running' };
  }

  #commit(next: CellConfig): void {
    const valid = validate(next);
    // Live fields are applied as soon as they are stored; restart fields keep their applied value.
    const applied = structuredClone(valid);
    for (const field of Object.keys(RESTART_FIELDS)) {
      setPath(applied as unknown as Record<string, unknown>, field, getPath(this.#applied, field));
    }
    this.#store.save(valid, applied);
    this.#current = valid;
    this.#applied = applied;
    for (const l of this.#listeners) l(this.get());
  }
}

function validate(config: CellConfig): CellConfig {
  const r = cellConfigSchema.safeParse(config);
  if (!r.success) {
    const fields = r.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
    throw new AppError('validation_failed', `Invalid ${fields.map((f) => f.field).join(', ')}`, { fields });
  }
  return r.data;
}
