import { existsSync } from 'node:fs';
import { join } from 'node:path';
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
    engine: Pick<
      ContainerEnginePort,
      'reachable' | 'observe' | 'remove' | 'removeNetwork' | 'removeEndedHelpers'
    >;
  },
): Promise<number> {
  await requireDocker(ctx.engine);
  // Only the cell's id (its directory's hash), not a render of the whole desired state: a config the
  // renderers refuse (a half-applied change) must not keep the owner from taking the cell down.
  const id = cellIdFor(ctx.cellDir);
  let observed = await ctx.engine.observe(id);
  let removed = 0;
  const removeAll = async (containers: ReadonlyArray<{ id: string; name: string }>) => {
    for (const c of containers) {
      console.log(`  remove ${c.name}`);
      await ctx.engine.remove(c.id);
      removed++;
    }
  };
  const api = observed.containers.filter((c) => c.service === 'api');
  if (api.length === 0) await removeAll(observed.containers);
  else {
    // cell-api goes first: it makes store services' containers (their recreation after a domain
    // change may be running), so none may appear while the rest go. Then the rest as listed now, and
    // once more for a container whose creation was already on its way to the engine.
    await removeAll(api);
    for (let pass = 0; pass < 2; pass++) {
      observed = await ctx.engine.observe(id);
      await removeAll(observed.containers);
    }
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
  // cell-api went first: a helper it was running may have exited without being removed.
  const helpers = (await ctx.engine.removeEndedHelpers?.(ctx.cellDir)) ?? 0;
  if (helpers) console.log(`  remove ${helpers} ended helper container${helpers > 1 ? 's' : ''}`);
  return removed + helpers + (observed.network ? 1 : 0) + storeNetworks.length;
}

/**
 * What `pic down` says when it removed nothing: a directory without a cell's config/ or data/ (a
 * mistyped --dir) is named as such, so the owner does not take "nothing to do" for "the cell is down".
 */
export function nothingToDo(cellDir: string): string {
  return ['config', 'data'].some((d) => existsSync(join(cellDir, d)))
    ? 'Nothing to do: no container of this cell exists.'
    : `Nothing to do: ${cellDir} is not a cell's directory (it has no config/ or data/). Give --dir the directory \`pic up\` ran in.`;
}

export async function down(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { dir: { type: 'string' } }, strict: true });
  const ctx = runtimeContext(values.dir);
  const n = await removeCellOf(ctx);
  console.log(n ? 'The cell is down.' : nothingToDo(ctx.cellDir));
  return 0;
}
