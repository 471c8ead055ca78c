// What every runtime command needs (the cell directory, its `.env`, the configuration, the engine, the
// process runner): resolved here from --dir, wired by the composition root.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createHostContext, type HostContext } from '../composition.ts';
import type { ContainerEnginePort } from '../core/ports/container-engine.ts';
import { UsageError } from './usage.ts';

/** The checkout this command runs from: the default cell directory (config/, data/, .env). */
export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

export type RuntimeContext = HostContext;

export function runtimeContext(dir: string | undefined): RuntimeContext {
  const cellDir = resolve(dir ?? process.env.PIC_CELL_DIR ?? REPO_ROOT);
  if (!existsSync(cellDir)) throw new UsageError(`--dir ${cellDir} does not exist`);
  return createHostContext(cellDir);
}

export async function requireDocker(engine: Pick<ContainerEnginePort, 'reachable'>): Promise<void> {
  if (!(await engine.reachable())) {
    throw new Error(
      'the Docker engine is not reachable: run `./pic up --yes` (installs and starts it) or scripts/ensure-docker.sh',
    );
  }
}
