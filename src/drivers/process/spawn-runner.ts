// The ProcessRunner on node:child_process: spawnSync with an argv array (no shell) and the
// terminal inherited, so interactive children (`docker exec -it`) and progress output work. A command
// that cannot start (ENOENT) reports status null, as spawnSync does.
import { spawnSync } from 'node:child_process';
import type { ProcessRunner } from '../../core/ports/process-runner.ts';

export const spawnRunner: ProcessRunner = {
  run(cmd, args, opts = {}) {
    const r = spawnSync(cmd, [...args], { stdio: 'inherit', ...(opts.cwd ? { cwd: opts.cwd } : {}) });
    return { status: r.status, signal: r.signal };
  },
};
