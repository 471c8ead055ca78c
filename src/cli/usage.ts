import { existsSync } from 'node:fs';
import { join } from 'node:path';
// Exit codes: 0 ok, 1 the command failed, 2 usage error (bad arguments).
export class UsageError extends Error {}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** $PIC_DATA_DIR, else the API's data of a cell in this directory (data/api), else ./data. */
export function defaultDataDir(): string {
  if (process.env.PIC_DATA_DIR) return process.env.PIC_DATA_DIR;
  return existsSync(join('data', 'api', 'cell.db')) ? join('data', 'api') : 'data';
}

export function parseListen(value: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || !(port >= 0 && port <= 65535))
    throw new UsageError(`--listen must be HOST:PORT (got "${value}")`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}
