import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCell } from '../../composition.ts';
import { desiredState } from '../../render/runtime/desired-state.ts';
import { runtimeContext } from '../runtime-context.ts';
import { defaultDataDir } from '../usage.ts';

export const statusHelp = `pic status [--dir DIR | --data-dir DIR] [--json]
  Shows the cell's identity, whether setup is complete, and each container's state, health and
  start time (when the Docker engine is reachable).`;

interface Row {
  name: string;
  state: string;
  health: string;
  since: string;
  restarts: number;
}

export async function status(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { dir: { type: 'string' }, 'data-dir': { type: 'string' }, json: { type: 'boolean' } },
    strict: true,
  });
  // A cell directory (data/api inside) or a bare data directory (pic serve).
  const ctx = values['data-dir'] ? undefined : runtimeContext(values.dir);
  const dataDir =
    values['data-dir'] ??
    (ctx && existsSync(join(ctx.apiDataDir, 'cell.db')) ? ctx.apiDataDir : defaultDataDir());
  const cell = createCell({ dataDir, sweepTemps: false, writeLogs: false });
  try {
    const config = cell.deps.config.get();
    const { identity } = config;
    const setupDone = cell.deps.setup.isCompleted();
    const engine = ctx?.engine;
    let rows: Row[] | undefined;
    if (ctx && engine && (await engine.reachable())) {
      const desired = desiredState({
        config,
        env: ctx.env,
        cellDir: ctx.cellDir,
        dockerGid: engine.socketGid(),
      });
      const states = await engine.states(desired.cellId);
      rows = desired.containers.map((spec) => {
        const s = states.find((x) => x.name === spec.name);
        return {
          name: spec.name,
          state: s?.state ?? 'missing',
          health: s?.health ?? '-',
          since: s?.state === 'running' && s.startedAt ? s.startedAt.replace(/\.\d+Z$/, 'Z') : '-',
          restarts: s?.restartCount ?? 0,
        };
      });
    }
    const services =
      rows ??
      (await cell.deps.health.services()).map((s) => ({
        name: s.name,
        state: s.state,
        health: '-',
        since: s.since ?? '-',
        restarts: 0,
      }));
    if (values.json) {
      console.log(JSON.stringify({ setup_completed: setupDone, identity, services }, null, 2));
      return 0;
    }
    console.log(`cell      ${identity.cell_name} (${identity.domain}, ${identity.domain_mode})`);
    console.log(
      `setup     ${setupDone ? 'complete' : 'not complete: run `pic setup-token` and open /setup'}`,
    );
    if (!rows) console.log('docker    not reachable: the data plane is not running (start it with ./pic up)');
    console.log('');
    console.log(
      `${'CONTAINER'.padEnd(24)} ${'STATE'.padEnd(10)} ${'HEALTH'.padEnd(10)} ${'SINCE'.padEnd(21)} RESTARTS`,
    );
    for (const r of services) {
      console.log(
        `${r.name.padEnd(24)} ${r.state.padEnd(10)} ${r.health.padEnd(10)} ${r.since.padEnd(21)} ${r.restarts}`,
      );
    }
    return 0;
  } finally {
    cell.close();
  }
}
