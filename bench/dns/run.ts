// DNS benchmark (issue 10, item 9). Not run by CI: `npm run bench:dns` (BENCH_PART=qps, change or blocked for
// one part). Loopback only: every Unbound (and the cell-dns container of the change part) is started
// and stopped here, and none has an upstream.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchBlocked } from './blocked.ts';
import { benchChange } from './change.ts';
import { benchQps } from './qps.ts';

/** Whether an executable of that name is on PATH (looked up here: no shell, no `command -v`). */
function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => {
    try {
      accessSync(join(dir || '.', tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const PART = process.env.BENCH_PART ?? 'all';
for (const tool of ['unbound', 'unbound-control', ...(PART === 'change' ? [] : ['dnsperf'])]) {
  if (!onPath(tool)) {
    console.error(
      `bench:dns needs ${tool} (Debian packages unbound and dnsperf): run\n  sudo scripts/install-prereqs.sh --for bench`,
    );
    process.exit(1);
  }
}
const version = spawnSync('unbound', ['-V'], { encoding: 'utf8' }).stdout.split('\n')[0];
console.log(
  `bench:dns — ${cpus()[0]?.model} ×${cpus().length}, Linux ${release()}, ${version}, Node ${process.version}, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
const dir = mkdtempSync(join(tmpdir(), 'pic-bench-dns-'));
try {
  if (PART === 'all' || PART === 'qps') await benchQps(dir);
  if (PART === 'all' || PART === 'change') await benchChange(dir);
  if (PART === 'all' || PART === 'blocked') await benchBlocked(dir);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
