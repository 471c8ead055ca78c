// The data plane as cell-api sees it from inside the cell: configuration changes recreate the
// containers they affect (never cell-api itself, which cannot replace itself mid-request).
import type { CellConfig } from '../../schema/config.ts';
import { type CellEnv, type DesiredState, START_ORDER } from '../../schema/runtime.ts';
import type { DataPlanePort, PendingChange } from '../config-service.ts';
import { AppError } from '../errors.ts';
import { hashesFor, type RuntimeEngine } from './apply.ts';

export interface DockerDataPlaneOptions {
  engine: RuntimeEngine & { reachable(): Promise<boolean> };
  desired(config: CellConfig): DesiredState;
}

export function dockerDataPlane({ engine, desired }: DockerDataPlaneOptions): DataPlanePort {
  return {
    running: () => engine.reachable(),
    async applyConfig(config: CellConfig, changes: PendingChange[]) {
      if (changes.some((c) => c.field === 'identity.ip_range')) {
        throw new AppError(
          'conflict',
          'Moving the cell network recreates every container: run `./pic up` on the host',
        );
      }
      const wanted = new Set(changes.flatMap((c) => c.restart));
      const d = desired(config);
      const hashes = await hashesFor(d, engine);
      const observed = await engine.observe(d.cellId);
      const restarted: string[] = [];
      for (const service of START_ORDER) {
        const spec = d.containers.find((c) => c.service === service);
        if (!spec || service === 'api' || !wanted.has(`cell-${service}`)) continue;
        for (const o of observed.containers.filter((c) => c.service === service)) await engine.remove(o.id);
        const id = await engine.createContainer(d.cellId, d.network.name, spec, hashes[service]!);
        await engine.start(id);
        restarted.push(spec.name);
      }
      return { restarted };
    },
  };
}

export function envFromProcess(): CellEnv {
  return JSON.parse(process.env.PIC_CELL_ENV ?? '{}') as CellEnv;
}
