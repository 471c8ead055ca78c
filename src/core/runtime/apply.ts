// Makes the engine match the desired state: resolve image ids, plan, apply in order, wait until
// every core container reports healthy. A run with nothing to change does nothing.
import { type DesiredState, specHash } from '../../schema/runtime.ts';
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
