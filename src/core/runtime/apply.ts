// Makes the engine match the desired state: resolve image ids, plan, write the rendered files, apply
// in order, hand changed live files to their running daemons. A run with nothing to change does
// nothing. `pic up` and the API's config apply both come through here: one reconciler. `pic up`
// then waits until every core container is ready (its daemon's own check passes).
import { specHash } from '../../render/runtime/spec-hash.ts';
import type { BindSpec, ContainerSpec, DesiredState, RenderedFile } from '../../schema/runtime.ts';
import { AppError } from '../errors.ts';
import type { ContainerEnginePort } from '../ports/container-engine.ts';
import type { Readiness } from '../ports/readiness.ts';
import { type Action, describe, plan } from './plan.ts';

/** What apply needs from the engine. */
export type RuntimeEngine = Pick<
  ContainerEnginePort,
  'imageId' | 'observe' | 'createNetwork' | 'removeNetwork' | 'createContainer' | 'start' | 'remove' | 'state'
>;

export interface ApplyHooks {
  progress(line: string): void;
  /** Creates a bind-mounted host directory with the owner (and mode) the daemon needs. */
  prepareBind(bind: BindSpec): void;
  /** Writes a rendered file atomically unless it already holds this content; true when it changed. */
  writeFile(file: RenderedFile): boolean;
  /**
   * A live file of a container that keeps running: hand it to the daemon (Caddy's POST /load), every
   * run, changed on disk or not: an earlier run may have written it and failed to load it. The daemon
   * skips a config equal to the one it runs (Caddy does).
   */
  loadLive(spec: ContainerSpec, file: RenderedFile): Promise<void>;
}

export async function hashesFor(
  desired: DesiredState,
  engine: RuntimeEngine,
): Promise<Record<string, string>> {
  // One engine round trip per image, all at once: they are independent, and in series they were
  // five `docker image inspect` waits at the start of every `pic up` and config apply.
  const ids = await Promise.all(desired.containers.map((spec) => engine.imageId(spec.image)));
  const hashes: Record<string, string> = {};
  desired.containers.forEach((spec, i) => {
    const id = ids[i];
    if (!id) {
      throw new AppError(
        'unavailable',
        `Image ${spec.image} is not built: run \`./pic up --yes\` or scripts/build-images.sh`,
      );
    }
    hashes[spec.service] = specHash(spec, id);
  });
  return hashes;
}

/** The actions that make the engine match `desired`; containers of `keep` are left as they are. */
export async function planDesired(
  desired: DesiredState,
  engine: RuntimeEngine,
  keep: readonly string[] = [],
): Promise<Action[]> {
  const hashes = await hashesFor(desired, engine);
  return plan({ desired, hashes, observed: await engine.observe(desired.cellId), keep });
}

/** Writes every rendered file, then runs the actions in order, then loads live files of kept daemons. */
export async function executePlan(
  desired: DesiredState,
  actions: readonly Action[],
  engine: RuntimeEngine,
  hooks: ApplyHooks,
): Promise<void> {
  // Files first: a container created below must find its configuration in place.
  for (const spec of desired.containers) for (const f of spec.files) hooks.writeFile(f);
  const started = new Set<string>();
  const create = async (spec: ContainerSpec, hash: string) => {
    for (const b of spec.binds) hooks.prepareBind(b);
    const id = await engine.createContainer(desired.cellId, desired.network.name, spec, hash);
    await engine.start(id);
    started.add(spec.name);
  };
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i]!;
    if (a.kind === 'create') {
      // Consecutive creates run together: no core container needs another to be up to start (each
      // waits for its peers at run time), and creating five one after another is most of `pic up`.
      const batch: Array<Extract<Action, { kind: 'create' }>> = [a];
      while (actions[i + 1]?.kind === 'create')
        batch.push(actions[++i] as Extract<Action, { kind: 'create' }>);
      for (const b of batch) hooks.progress(describe(b));
      await Promise.all(batch.map((b) => create(b.spec, b.hash)));
      continue;
    }
    hooks.progress(describe(a));
    switch (a.kind) {
      case 'remove':
        await engine.remove(a.id);
        break;
      case 'remove-network':
        await engine.removeNetwork(a.id);
        break;
      case 'create-network':
        await engine.createNetwork(desired.cellId, a.name, a.subnet, a.gateway);
        break;
      case 'start':
        await engine.start(a.id);
        started.add(a.name);
        break;
    }
  }
  // A daemon that (re)started in this run read its live files at start.
  for (const spec of desired.containers) {
    if (started.has(spec.name)) continue;
    for (const f of spec.files) if (f.live) await hooks.loadLive(spec, f);
  }
}

export async function applyDesired(
  desired: DesiredState,
  engine: RuntimeEngine,
  hooks: ApplyHooks,
): Promise<Action[]> {
  const actions = await planDesired(desired, engine);
  await executePlan(desired, actions, engine, hooks);
  return actions;
}

/** How often readiness checks run while `pic up` waits (Docker's own health interval is 15 s). */
export const READINESS_INTERVAL_MS = 250;

/**
 * Waits until every desired container runs and its daemon is ready. With a Readiness port, each
 * container's own check is polled every READINESS_INTERVAL_MS until it passes once (or Docker already
 * says healthy); without one, Docker's health status decides (the images' HEALTHCHECKs).
 */
export async function waitHealthy(
  desired: DesiredState,
  engine: RuntimeEngine,
  opts: { timeoutMs: number; progress(line: string): void; readiness?: Readiness; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? (opts.readiness ? READINESS_INTERVAL_MS : 1000);
  const ready = new Set<string>();
  const details = new Map<string, string>();
  let last = '';
  for (;;) {
    const { containers } = await engine.observe(desired.cellId);
    const states = await Promise.all(containers.map((c) => engine.state(c.id)));
    const pending = desired.containers
      .map((spec) => ({ spec, st: states.find((s) => s.name === spec.name) }))
      .filter(({ spec, st }) => {
        if (st?.state !== 'running') return true;
        if (st.health === undefined || st.health === 'healthy' || ready.has(spec.name)) return false;
        return true;
      });
    if (opts.readiness) {
      const readiness = opts.readiness;
      await Promise.all(
        pending
          .filter(({ st }) => st?.state === 'running')
          .map(async ({ spec }) => {
            const r = await readiness.check(spec.name);
            if (r.ready) ready.add(spec.name);
            else details.set(spec.name, r.detail);
          }),
      );
    }
    const waiting = pending.filter(({ spec }) => !ready.has(spec.name));
    if (waiting.length === 0) return;
    const line = `waiting for ${waiting.map(({ spec, st }) => `${spec.name} (${st?.health ?? st?.state ?? 'missing'})`).join(', ')}`;
    if (line !== last) opts.progress(line);
    last = line;
    if (Date.now() > deadline) {
      const why = waiting
        .map(({ spec }) => details.get(spec.name))
        .filter(Boolean)
        .join('; ');
      throw new AppError('unavailable', `Timed out: ${line}${why ? ` (${why})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
