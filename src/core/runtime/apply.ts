// Makes the engine match the desired state: resolve image ids, plan, apply in order, wait until
// every core container is ready (its daemon's own check passes). A run with nothing to change does nothing.
import { type ContainerSpec, type DesiredState, specHash } from '../../schema/runtime.ts';
import { AppError } from '../errors.ts';
import type { Readiness } from '../ports/readiness.ts';
import { type Action, describe, type Observed, plan } from './plan.ts';

/** What apply needs from the engine (DockerEngine implements it). */
export interface RuntimeEngine {
  imageId(ref: string): Promise<string | undefined>;
  observe(cellId: string): Promise<Observed>;
  createNetwork(cellId: string, name: string, subnet: string, gateway: string): Promise<void>;
  removeNetwork(id: string): Promise<void>;
  createContainer(cellId: string, network: string, spec: ContainerSpec, hash: string): Promise<string>;
  start(id: string): Promise<void>;
  remove(id: string): Promise<void>;
  state(id: string): Promise<{ name: string; state: string; health: string | undefined }>;
}

export interface ApplyHooks {
  progress(line: string): void;
  /** Creates a bind-mounted host directory with the owner the daemon needs. */
  prepareBind(path: string, uid: number): void;
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

export async function applyDesired(
  desired: DesiredState,
  engine: RuntimeEngine,
  hooks: ApplyHooks,
): Promise<Action[]> {
  const hashes = await hashesFor(desired, engine);
  const actions = plan({ desired, hashes, observed: await engine.observe(desired.cellId) });
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
        for (const b of a.spec.binds) hooks.prepareBind(b.host, b.uid);
        const id = await engine.createContainer(desired.cellId, desired.network.name, a.spec, a.hash);
        await engine.start(id);
        break;
      }
      case 'start':
        await engine.start(a.id);
        break;
    }
  }
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
