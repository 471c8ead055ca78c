// plan(desired, observed): what to do to make the engine match the desired state. Pure.
// Only objects labelled for this cell are ever in `observed`; anything else is invisible here.
import { type ContainerSpec, type DesiredState, START_ORDER } from '../../schema/runtime.ts';

export interface ObservedContainer {
  id: string;
  name: string;
  service: string;
  specHash: string;
  running: boolean;
}

export interface Observed {
  network: { id: string; subnet: string } | undefined;
  containers: ObservedContainer[];
  /** The store services' own networks (`pic down` removes them too; the plan leaves them alone). */
  storeNetworks?: string[];
}

export type Action =
  | { kind: 'create-network'; name: string; subnet: string; gateway: string }
  | { kind: 'remove-network'; id: string }
  | { kind: 'create'; spec: ContainerSpec; hash: string; reason: string }
  | { kind: 'remove'; id: string; name: string; reason: string }
  | { kind: 'start'; id: string; name: string };

export interface PlanInput {
  desired: DesiredState;
  /** Spec hash per service (includes the image id, resolved by the caller). */
  hashes: Record<string, string>;
  observed: Observed;
  /** Services whose containers are left as they are (cell-api cannot replace itself mid-request). */
  keep?: readonly string[];
}

/** A store container's key has a `_`, which no core service name has (storeContainerKey). */
const isStoreKey = (service: string) => service.includes('_');

const order = (service: string) => {
  const i = START_ORDER.indexOf(service as never);
  return i < 0 ? START_ORDER.length : i;
};

export function plan({ desired, hashes, observed, keep = [] }: PlanInput): Action[] {
  const removals: Action[] = [];
  const creations: Action[] = [];
  const starts: Action[] = [];
  const desiredByService = new Map(desired.containers.map((c) => [c.service, c]));
  const networkChanged = observed.network !== undefined && observed.network.subnet !== desired.network.subnet;

  // Remove what is gone, duplicated, or different (recreated below), in reverse start order.
  const kept = new Map<string, ObservedContainer>();
  for (const o of [...observed.containers].sort((a, b) => order(b.service) - order(a.service))) {
    // A store service's container (`<id>_<container>`) belongs to the service store, not the core.
    if (keep.includes(o.service) || isStoreKey(o.service)) continue;
    const want = desiredByService.get(o.service as never);
    if (!want)
      removals.push({ kind: 'remove', id: o.id, name: o.name, reason: 'no longer part of the cell' });
    else if (kept.has(o.service))
      removals.push({ kind: 'remove', id: o.id, name: o.name, reason: 'duplicate' });
    else if (networkChanged || o.specHash !== hashes[o.service] || o.name !== want.name) {
      removals.push({
        kind: 'remove',
        id: o.id,
        name: o.name,
        reason: networkChanged ? 'network changed' : 'definition changed',
      });
    } else kept.set(o.service, o);
  }

  const network: Action[] = [];
  if (networkChanged) network.push({ kind: 'remove-network', id: observed.network!.id });
  if (!observed.network || networkChanged) network.push({ kind: 'create-network', ...desired.network });

  for (const spec of [...desired.containers].sort((a, b) => order(a.service) - order(b.service))) {
    if (keep.includes(spec.service)) continue;
    const have = kept.get(spec.service);
    const hash = hashes[spec.service]!;
    if (!have) {
      const existed = observed.containers.some((o) => o.service === spec.service);
      creations.push({ kind: 'create', spec, hash, reason: existed ? 'definition changed' : 'missing' });
    } else if (!have.running) starts.push({ kind: 'start', id: have.id, name: have.name });
  }
  return [...removals, ...network, ...creations, ...starts];
}

export function describe(a: Action): string {
  switch (a.kind) {
    case 'create-network':
      return `create network ${a.name} (${a.subnet})`;
    case 'remove-network':
      return 'remove network (subnet changed)';
    case 'create':
      return `create ${a.spec.name} (${a.reason})`;
    case 'remove':
      return `remove ${a.name} (${a.reason})`;
    case 'start':
      return `start ${a.name}`;
  }
}
