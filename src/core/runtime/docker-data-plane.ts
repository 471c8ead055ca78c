// The data plane as cell-api sees it from inside the cell. A configuration apply goes through the
// same reconciler as `pic up` (plan, then apply): what the new configuration renders differently is
// rewritten and its containers recreated, and Caddy gets its config through the admin API. Never
// cell-api itself, which cannot replace itself mid-request.
import type { CellConfig } from '../../schema/config.ts';
import type { DesiredState, RenderedFile } from '../../schema/runtime.ts';
import type { DataPlanePort, PendingChange } from '../config-service.ts';
import { AppError } from '../errors.ts';
import type { FrontDoorTls } from '../front-door/front-door-tls.ts';
import type { CaddyAdminPort } from '../ports/caddy-admin.ts';
import { executePlan, planDesired, type RuntimeEngine } from './apply.ts';

export interface DockerDataPlaneOptions {
  engine: RuntimeEngine & { reachable(): Promise<boolean> };
  desired(config: CellConfig): DesiredState;
  /** Writes a rendered file into the cell's config/ unless unchanged; true when it changed. */
  writeFile(file: RenderedFile): boolean;
  caddy: CaddyAdminPort;
  /** Delivers the HTTPS certificate for the configuration's names before Caddy's config is loaded. */
  tls?: Pick<FrontDoorTls, 'ensure'>;
  /** Progress lines of the apply (the config log). */
  progress?(line: string): void;
}

const MOVE_NETWORK = 'Moving the cell network recreates every container: run `./pic up` on the host';

export function dockerDataPlane({
  engine,
  desired,
  writeFile,
  caddy,
  tls,
  progress = () => {},
}: DockerDataPlaneOptions): DataPlanePort {
  return {
    running: () => engine.reachable(),
    async applyConfig(config: CellConfig, changes: PendingChange[]) {
      if (changes.some((c) => c.field === 'identity.ip_range')) throw new AppError('conflict', MOVE_NETWORK);
      const d = desired(config);
      const api = d.containers.find((c) => c.service === 'api');
      const actions = await planDesired(d, engine, api ? [api.service] : []);
      if (actions.some((a) => a.kind === 'create-network' || a.kind === 'remove-network'))
        throw new AppError('conflict', MOVE_NETWORK);
      // A new domain needs its certificate on disk before Caddy loads a config naming it; new files
      // under an unchanged config need a forced load for Caddy to read them.
      const delivered = (await tls?.ensure(config, { reload: false })) === 'delivered';
      await executePlan(d, actions, engine, {
        progress,
        // The host directories exist: `pic up` created them before the containers that mount them.
        prepareBind: () => {},
        writeFile,
        // Every apply offers Caddy its config; the driver sends nothing when it is unchanged.
        loadLive: async (spec, file) => {
          if (spec.service !== 'caddy') return;
          if (delivered) await caddy.reload(file.content);
          else await caddy.load(file.content);
        },
      });
      const restarted = actions.flatMap((a) =>
        a.kind === 'create' ? [a.spec.name] : a.kind === 'start' ? [a.name] : [],
      );
      return { restarted };
    },
  };
}
