// One PIC backup or restore in a process of its own, so its memory figures are its own: the cell is
// opened (createCell on an existing data directory, as `pic serve` does), garbage collected and left
// idle, then the operation runs through BackupService as the API and the scheduler run it. Prints one
// JSON line: wall time, CPU time, the job's phases with their start times, RSS sampled every 25 ms and
// the kernel's high-water mark (VmHWM, reset through /proc/self/clear_refs) above the idle RSS, for the
// whole operation and from the moment the key is ready (scrypt done) on; and the highest VmHWM of any
// process it started (scrypt's child, scrypt-child.ts), read at every sample while it runs.
//
//   node --expose-gc bench/backup/child.ts backup  <dataDir>            (BENCH_KEY: passphrase|recipient)
//   node --expose-gc bench/backup/child.ts restore <dataDir> <backupId>
// The passphrase comes in BENCH_PASSPHRASE and the recipient in BENCH_RECIPIENT, never in argv.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { createCell } from '../../src/composition.ts';

const [op, dataDir, restoreId] = process.argv.slice(2);
if ((op !== 'backup' && op !== 'restore') || !dataDir)
  throw new Error('usage: child.ts backup|restore DIR [ID]');
const passphrase = process.env.BENCH_PASSPHRASE ?? '';
const recipient = process.env.BENCH_RECIPIENT;

const MiB = 1024 * 1024;
const vmHwm = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
/** Resets VmHWM to the current RSS (Linux ≥ 4.0; writing 5 to one's own clear_refs). */
const resetHwm = () => writeFileSync('/proc/self/clear_refs', '5');
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
/** The highest VmHWM seen of this process's children (scrypt's): theirs, not counted in this one's RSS. */
let childHwm = 0;
const sampleChildren = () => {
  try {
    for (const t of readdirSync('/proc/self/task'))
      for (const pid of readFileSync(`/proc/self/task/${t}/children`, 'utf8').split(' ').filter(Boolean)) {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (m) childHwm = Math.max(childHwm, Number(m[1]) * 1024);
      }
  } catch {
    // A child gone between the two reads.
  }
};

const cell = createCell({ dataDir, background: false });
const service = cell.deps.backups;
// Idle: the cell open, its first allocations settled and collected.
await new Promise((r) => setTimeout(r, 300));
gc();
await new Promise((r) => setTimeout(r, 200));
const idle = process.memoryUsage.rss();

// How long the event loop was kept from other work (what an API request would wait behind).
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const main0 = process.threadCpuUsage();
const samples: { at: number; rss: number }[] = [];
const phases: { phase: string; at: number }[] = [];
let id: string | undefined;
let lastPhase = '';
/** When the key was ready (scrypt done): the restore's passphrase check, the backup's first file. */
let keyMs: number | undefined;
let hwmBeforeKey = 0;
const keyReady = () => {
  keyMs = performance.now() - t0;
  hwmBeforeKey = vmHwm();
  resetHwm();
};
/** BENCH_MEM_TRACE=FILE: every sample's rss, V8 heap, external and ArrayBuffer bytes, as JSON lines. */
const trace: string[] | undefined = process.env.BENCH_MEM_TRACE ? [] : undefined;
const sample = () => {
  const at = performance.now() - t0;
  samples.push({ at, rss: process.memoryUsage.rss() });
  sampleChildren();
  if (trace) {
    const m = process.memoryUsage();
    const f = (n: number) => Math.round(((n - (n === m.rss ? idle : 0)) / MiB) * 10) / 10;
    const spaces = Object.fromEntries(
      getHeapSpaceStatistics().map((x) => [x.space_name.replace('_space', ''), f(x.space_size)]),
    );
    trace.push(
      JSON.stringify({
        at: Math.round(at),
        rss: f(m.rss),
        heapTotal: f(m.heapTotal),
        heapUsed: f(m.heapUsed),
        external: f(m.external),
        arrayBuffers: f(m.arrayBuffers),
        ...spaces,
      }),
    );
  }
  const phase = id ? service.detail(id).job?.phase : undefined;
  if (phase && phase !== lastPhase) {
    phases.push({ phase, at });
    lastPhase = phase;
    // The backup's sources are pulled once the age header is made: the second names the files.
    if (op === 'backup' && keyMs === undefined && (phase === 'files' || phase === 'writing')) keyReady();
  }
};
const timer = setInterval(sample, 25);
resetHwm();
if (op === 'backup') {
  const key = recipient ? { recipients: [recipient] } : { passphrase };
  id = service.create({ ...key, origin: 'cli' }).backup_id;
} else {
  if (!restoreId) throw new Error('restore needs a backup id');
  // The passphrase is checked (scrypt) before restore() returns; what follows is stage, verify, swap.
  id = (await service.restore(restoreId, passphrase, 'cli')).backup_id;
  keyReady();
}
const job = await service.wait(id);
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
loopDelay.disable();
const main = process.threadCpuUsage(main0);
sample();
clearInterval(timer);
const hwm = vmHwm();
const item = service.detail(id).backup;
cell.close();

if (trace) writeFileSync(process.env.BENCH_MEM_TRACE!, `${trace.join('\n')}\n`);
const afterKey = samples.filter((s) => keyMs !== undefined && s.at >= keyMs);
const peak = (xs: { rss: number }[]) => Math.max(0, ...xs.map((s) => s.rss));
process.stdout.write(
  `${JSON.stringify({
    op,
    id,
    phase: job.phase,
    error: job.error,
    bytesTotal: job.bytes_total,
    archiveBytes: item?.size ?? null,
    file: item?.file ?? null,
    wallMs,
    // Every thread of the process: the event loop, zlib's and fs's thread pool, the age worker.
    cpuMs: (cpu.user + cpu.system) / 1000,
    // The event loop's thread alone (tar, hashing, the age payload, the garbage collector).
    mainCpuMs: (main.user + main.system) / 1000,
    loopDelayMs: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
    keyMs: keyMs ?? null,
    phases,
    idleMiB: idle / MiB,
    // Whole operation: the key derivation (scrypt, 256 MiB at work factor 18) included.
    peakAboveIdleMiB: (Math.max(peak(samples), hwm, hwmBeforeKey) - idle) / MiB,
    // Once the key is ready: the streaming itself (VmHWM was reset then).
    peakAfterKeyAboveIdleMiB: keyMs === undefined ? null : (Math.max(peak(afterKey), hwm) - idle) / MiB,
    samples: samples.length,
    // scrypt's child process (its own RSS, not this process's): the highest VmHWM seen, in MiB.
    childPeakMiB: childHwm / MiB,
  })}\n`,
);
