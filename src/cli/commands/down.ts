import { parseArgs } from 'node:util';
import type { ContainerEnginePort } from '../../core/ports/container-engine.ts';
import { cellIdFor } from '../../render/runtime/desired-state.ts';
import { type RuntimeContext, requireDocker, runtimeContext } from '../runtime-context.ts';

export const downHelp = `pic down [--dir DIR]
  Stops and removes the cell's containers and networks (its store services' too). config/ and data/ stay.`;

/** Removes every container and the network labelled for this cell; returns how many objects. */
export async function removeCell(dir: string | undefined): Promise<number> {
  return removeCellOf(runtimeContext(dir));
}

/** removeCell on a resolved context: the cell is chosen by its id (its directory's hash) alone. */
export async function removeCellOf(
  ctx: Pick<RuntimeContext, 'cellDir'> & {
    engine: Pick<ContainerEnginePort, 'reachable' | 'observe' | 'remove' | 'removeNetwork'>;
  },
): Promise<number> {
  await requireDocker(ctx.engine);
  // Only the cell's id (its directory's hash), not a render of the whole desired state: a config the
  // renderers refuse (a half-applied change) must not keep the owner from taking the cell down.
  const observed = await ctx.engine.observe(cellIdFor(ctx.cellDir));
  for (const c of observed.containers) {
    console.log(`  remove ${c.name}`);
    await ctx.engine.remove(c.id);
  }
  if (observed.network) {
    console.log('  remove network');
    await ctx.engine.removeNetwork(observed.network.id);
  }
  const storeNetworks = observed.storeNetworks ?? [];
  for (const id of storeNetworks) {
    console.log("  remove a store service's network");
    await ctx.engine.removeNetwork(id);
  }
  return observed.containers.length + (observed.network ? 1 : 0) + storeNetworks.length;
}

export async function down(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { dir: { type: 'string' } }, strict: true });
  const n = await removeCell(values.dir);
  console.log(n ? 'The cell is down.' : 'Nothing to do: no container of this cell exists.');
  return 0;
}
