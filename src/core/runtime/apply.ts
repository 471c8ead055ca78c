// Makes the engine match the desired state: resolve image ids, plan, write the rendered files, apply
// in order, hand changed live files to their running daemons. A run with nothing to change does
// nothing. `pic up` and the API's config apply both come through here: one reconciler.
import { specHash } from '../../render/runtime/spec-hash.ts';
import type { BindSpec, ContainerSpec, DesiredState, RenderedFile } from '../../schema/runtime.ts';
import { AppError } from '../errors.ts';
import type { ContainerEnginePort } from '../ports/container-engine.ts';
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
   * A live file of a container that keeps running: hand it to the daemon (Caddy's POST /load).
   * `changed` says whether this run rewrote it; the hook decides whether that matters.
   */
  loadLive(spec: ContainerSpec, file: RenderedFile, changed: boolean): Promise<void>;
}

export async function hashesFor(
  desired: DesiredState,
  engine: RuntimeEngine,
): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  for (const spec of desired.containers) {
    const id = await engine.imageId(spec.image);
    if (!id) {
      throw new AppError(
        'unavailable',
        `Image ${spec.image} is not built: run \`./pic up --yes\` or scripts/build-images.sh`,
      );
    }
    hashes[spec.service] = specHash(spec, id);
  }
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
  const changed = new Set<RenderedFile>();
  for (const spec of desired.containers) for (const f of spec.files) if (hooks.writeFile(f)) changed.add(f);
  const started = new Set<string>();
  for (const a of actions) {
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
      case 'create': {
        for (const b of a.spec.binds) hooks.prepareBind(b);
        const id = await engine.createContainer(desired.cellId, desired.network.name, a.spec, a.hash);
        await engine.start(id);
        started.add(a.spec.name);
        break;
      }
      case 'start':
        await engine.start(a.id);
        started.add(a.name);
        break;
    }
  }
  // A daemon that (re)started in this run read its live files at start.
  for (const spec of desired.containers) {
    if (started.has(spec.name)) continue;
    for (const f of spec.files) if (f.live) await hooks.loadLive(spec, f, changed.has(f));
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

/** Polls Docker's health status (the images' HEALTHCHECKs test what each daemon does). */
export async function waitHealthy(
  desired: DesiredState,
  engine: RuntimeEngine,
  opts: { timeoutMs: number; progress(line: string): void },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let last = '';
  for (;;) {
    const { containers } = await engine.observe(desired.cellId);
    const states = await Promise.all(containers.map((c) => engine.state(c.id)));
    const waiting = desired.containers
      .map((spec) => ({ spec, st: states.find((s) => s.name === spec.name) }))
      .filter(({ st }) => st?.state !== 'running' || (st.health !== undefined && st.health !== 'healthy'));
    if (waiting.length === 0) return;
    const line = `waiting for ${waiting.map(({ spec, st }) => `${spec.name} (${st?.health ?? st?.state ?? 'missing'})`).join(', ')}`;
    if (line !== last) opts.progress(line);
    last = line;
    if (Date.now() > deadline) throw new AppError('unavailable', `Timed out: ${line}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
