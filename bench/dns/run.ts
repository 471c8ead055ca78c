// DNS benchmark (issue 10, item 9). Not run by CI: `npm run bench:dns` (BENCH_PART=qps, change or blocked for
// one part). Loopback only: every Unbound (and the cell-dns container of the change part) is started
// and stopped here, and none has an upstream.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTools } from '../tools.ts';
import { benchBlocked } from './blocked.ts';
import { benchChange } from './change.ts';
import { benchQps } from './qps.ts';

const PART = process.env.BENCH_PART ?? 'all';
requireTools(
  'bench:dns',
  ['unbound', 'unbound-control', ...(PART === 'change' ? [] : ['dnsperf'])],
  'unbound and dnsperf',
);
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
