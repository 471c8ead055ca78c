// Layout of a cell's directories. data/ holds state and secrets (0700); config/ holds files rendered
// from the database for the daemons.
import { chmodSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface CellPaths {
  root: string;
  data: string;
  db: string;
  secrets: string;
  logs: string;
  config: string;
}

export function cellPaths(dataDir: string, configDir?: string): CellPaths {
  const data = resolve(dataDir);
  return {
    root: data,
    data,
    db: join(data, 'cell.db'),
    secrets: join(data, 'secrets'),
    logs: join(data, 'logs'),
    config: resolve(configDir ?? join(data, '..', 'config')),
  };
}

export function ensureDirs(paths: CellPaths): void {
  for (const dir of [paths.data, paths.secrets, paths.logs]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  }
}
