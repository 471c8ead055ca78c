// Watches the core containers. Docker's health status is the result of each image's HEALTHCHECK,
// which tests what the daemon does (Unbound answers a query, Caddy's admin API answers, chrony
// tracks, wg0 exists). A stopped core container is started again with exponential backoff.
// Every state change goes to the monitor log and the audit trail.
// Docker runs a HEALTHCHECK only every 15 s, so after a (re)start it says `starting` for up to 15 s
// while the daemon already works. With a Readiness port the monitor runs the container's own check
// itself in that window, the same check `pic up` polls: a pass counts as running at once.
import type { ServiceHealth } from '../../schema/containers.ts';
import type { ContainerEnginePort } from '../ports/container-engine.ts';
import type { HealthPort } from '../ports/health.ts';
import type { Readiness } from '../ports/readiness.ts';

/** What the monitor asks of the engine (names work where ids do). */
export type MonitorEngine = Pick<ContainerEnginePort, 'state' | 'start'>;

export interface MonitorHooks {
  transition(service: string, from: string, to: string, error: string | null): void;
  restarted(service: string, ok: boolean, error: string | null): void;
}

interface Tracked extends ServiceHealth {
  container: string;
  failures: number;
  nextRestartAt: number;
}

const BACKOFF_BASE_MS = 2_000;
const BACKOFF_MAX_MS = 5 * 60_000;

export function classify(s: { state: string; health: string | undefined }): ServiceHealth['state'] {
  if (s.state !== 'running') return s.state === 'restarting' ? 'starting' : 'stopped';
  if (s.health === 'unhealthy') return 'unhealthy';
  if (s.health === 'starting') return 'starting';
  return 'running';
}

export class HealthMonitor implements HealthPort {
  readonly #engine: MonitorEngine;
  readonly #hooks: MonitorHooks;
  readonly #tracked: Tracked[];
  readonly #now: () => number;
  readonly #readiness: Readiness | undefined;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;

  constructor(
    engine: MonitorEngine,
    containers: { service: string; container: string }[],
    hooks: MonitorHooks,
    now: () => number = Date.now,
    readiness?: Readiness,
  ) {
    this.#engine = engine;
    this.#hooks = hooks;
    this.#now = now;
    this.#readiness = readiness;
    this.#tracked = containers.map((c) => ({
      name: c.container,
      container: c.container,
      state: 'unknown',
      since: null,
      last_error: null,
      failures: 0,
      nextRestartAt: 0,
    }));
  }

  start(intervalMs = 5_000): void {
    void this.tick();
    this.#timer = setInterval(() => void this.tick(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async services(): Promise<ServiceHealth[]> {
    return this.#tracked.map(({ name, state, since, last_error }) => ({ name, state, since, last_error }));
  }

  async tick(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (const t of this.#tracked) await this.#check(t);
    } finally {
      this.#busy = false;
    }
  }

  async #check(t: Tracked): Promise<void> {
    let next: ServiceHealth['state'];
    let error: string | null = null;
    try {
      const s = await this.#engine.state(t.container);
      next = classify(s);
      // Docker has not run its first check yet: run the daemon's own check now instead of waiting.
      if (next === 'starting' && s.state === 'running' && this.#readiness)
        if ((await this.#readiness.check(t.container)).ready) next = 'running';
      if (next === 'unhealthy') error = 'health check failing';
      if (next === 'stopped') error = `container ${s.state}`;
    } catch (err) {
      next = 'stopped';
      error = (err as Error).message.slice(0, 200);
    }
    if (next !== t.state) {
      this.#hooks.transition(t.name, t.state, next, error);
      t.state = next;
      t.since = new Date(this.#now()).toISOString();
    }
    t.last_error = error ?? t.last_error;
    if (next === 'running') t.failures = 0;
    if (next === 'stopped' && this.#now() >= t.nextRestartAt) {
      t.nextRestartAt = this.#now() + Math.min(BACKOFF_BASE_MS * 2 ** t.failures, BACKOFF_MAX_MS);
      t.failures++;
      try {
        await this.#engine.start(t.container);
        this.#hooks.restarted(t.name, true, null);
      } catch (err) {
        this.#hooks.restarted(t.name, false, (err as Error).message.slice(0, 200));
      }
    }
  }
}
