// The host's `.env` as `pic up` handed it to cell-api (PIC_CELL_ENV, canonical JSON); empty outside
// the cell. Read once by the composition root and injected: core never reads process.env.
import { type CellEnv, envSchema } from '../../schema/runtime.ts';

export function envFromProcess(env: NodeJS.ProcessEnv = process.env): CellEnv {
  return envSchema.parse(JSON.parse(env.PIC_CELL_ENV ?? '{}'));
}

/** The .env as a file again (sorted KEY=value lines), for a backup made inside the cell. */
export function envFileText(env: CellEnv): string {
  return Object.entries(env)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}\n`)
    .join('');
}
