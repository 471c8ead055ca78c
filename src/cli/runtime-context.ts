// What every runtime command needs: the cell directory, its `.env`, the configuration, the engine.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createCell } from '../composition.ts';
import { DockerEngine } from '../drivers/docker/engine.ts';
import { desiredState } from '../render/runtime/desired-state.ts';
import { type CellEnv, type DesiredState, parseEnvFile } from '../schema/runtime.ts';
import { UsageError } from './usage.ts';

/** The checkout this command runs from: the default cell directory (config/, data/, .env). */
export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

export interface RuntimeContext {
  cellDir: string;
  apiDataDir: string;
  env: CellEnv;
  engine: DockerEngine;
  desired(): DesiredState;
}

export function runtimeContext(dir: string | undefined): RuntimeContext {
  const cellDir = resolve(dir ?? process.env.PIC_CELL_DIR ?? REPO_ROOT);
  if (!existsSync(cellDir)) throw new UsageError(`--dir ${cellDir} does not exist`);
  const envPath = join(cellDir, '.env');
  const env = existsSync(envPath) ? parseEnvFile(readFileSync(envPath, 'utf8')) : {};
  const apiDataDir = join(cellDir, 'data', 'api');
  const engine = new DockerEngine();
  return {
    cellDir,
    apiDataDir,
    env,
    engine,
    desired() {
      const cell = createCell({ dataDir: apiDataDir, sweepTemps: false, writeLogs: false });
      try {
        return desiredState({ config: cell.deps.config.get(), env, cellDir, dockerGid: engine.socketGid() });
      } finally {
        cell.close();
      }
    },
  };
}

export async function requireDocker(engine: DockerEngine): Promise<void> {
  if (!(await engine.reachable())) {
    throw new Error(
      'the Docker engine is not reachable: run `./pic up --yes` (installs and starts it) or scripts/ensure-docker.sh',
    );
  }
}
