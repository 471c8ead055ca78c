// Backup and restore benchmark (issue 11, part 9). Not run by CI: `npm run bench:backup`.
//
// A temp cell (makeKit + setup, no Docker: `pic serve`'s case) gets BENCH_BACKUP_MB (default 1024) MiB
// of mixed files in its data directory (bench/backup/data.ts: JSON and text that compress, random bytes
// that do not, many small files and a few large ones), under data/services/bench/, which a backup
// carries like any other entry of the API's data directory. Then, in BENCH_ROUNDS rounds (default 3,
// the order of PIC and the reference alternating), the same bytes go through:
//   backup   PIC: BackupService.create with a passphrase at age's default scrypt work factor (18), in a
//            child process (bench/backup/child.ts), gzip level 6 (zlib's default), the archive fsynced;
//            reference: `tar -cz -C data <the same entries> | age -p -o out && sync out`: GNU tar, gzip -6
//            (tar -z's default), Debian's age (Go) with a passphrase (work factor 18), the file fsynced.
//   restore  PIC: BackupService.restore into a fresh cell (passphrase check, stage, verify every file
//            against the manifest, the database checked, the journaled swap, the re-apply), in a child;
//            reference: `age -d archive | tar -xz -C fresh-dir`.
// Both sides use a passphrase, so both pay scrypt at work factor 18 (~1 s) once per operation. Debian's
// age only reads a passphrase from a terminal: it runs under `script`, which gives it a pseudo-terminal,
// and the passphrase is typed into it at once (it waits in the terminal's input queue).
// Throughput = the generated input bytes ÷ wall seconds, for both; CPU seconds beside it (every thread
// of the child; every process of the reference, by GNU time). The ratio is reference time ÷ PIC time,
// i.e. PIC's throughput ÷ the reference's (goal ≥ 1.0). Memory: the child's RSS sampled every 25 ms and
// its VmHWM, above its idle RSS (the cell open, after a GC), over the whole operation and once the key
// is ready: age's scrypt at work factor 18 needs 256 MiB by itself (128 · r · N bytes; Go's age too),
// for about a second before any byte streams, in a short-lived child process of PIC's
// (src/drivers/backup/scrypt-child.ts) whose peak RSS (VmHWM) is reported beside the API's. One more backup to an X25519 recipient has no scrypt.
// The children run with the API's Node flags (src/render/runtime/api-node-flags.ts), as cell-api does.
// The child's event-loop delay (perf_hooks, 10 ms resolution): what an API request would wait behind.
// BENCH_MEM_TRACE=FILE (one child at a time, e.g. run child.ts by hand) writes its memory samples.
// BENCH_CPU_PROF=DIR runs the PIC children with --cpu-prof into DIR (one profile per thread).
// Everything stays in a temp dir on this machine, removed at the end (BENCH_KEEP=1 keeps it); every
// archive and restored tree is kept until then (about 10 × BENCH_BACKUP_MB of disk for 3 rounds):
// deleting gigabytes between steps made whichever step came next slower, on either side.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { completeSetup, makeKit } from '../../src/api/test-kit.ts';
import { API_NODE_FLAGS } from '../../src/render/runtime/api-node-flags.ts';
import { generate } from './data.ts';

const MB = Number(process.env.BENCH_BACKUP_MB ?? 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PROF = process.env.BENCH_CPU_PROF;
const KEEP = process.env.BENCH_KEEP === '1';
const PASSPHRASE = 'a long benchmark passphrase, typed twice';
const MiB = 1024 * 1024;
/** What a backup leaves out of the API's data directory (cell-state.ts's NOT_STATE). */
const NOT_STATE =
  /^(cell\.db(-wal|-shm|-journal)?|backup\.lock(-journal)?|logs|backups|restore-staging-.*|restore-journal\.json|\.pic-tmp-.*)$/;

for (const tool of [
  ['age', '--version'],
  ['age-keygen', '--version'],
  ['script', '--version'],
  ['/usr/bin/time', '--version'],
]) {
  if (spawnSync(tool[0]!, tool.slice(1)).status !== 0) {
    console.error(`${tool[0]} is missing: sudo scripts/install-prereqs.sh --for bench`);
    process.exit(1);
  }
}

const root = mkdtempSync(join(tmpdir(), 'pic-bench-backup-'));
const cellOpts = { background: false };

/** A set-up cell in `dir`, closed again: its data directory is what the child processes open. */
async function newCell(dir: string): Promise<string> {
  const kit = await makeKit({}, cellOpts, dir);
  await completeSetup(kit);
  await kit.app.close();
  kit.cell.close();
  return kit.cell.paths.data;
}

interface ChildResult {
  op: string;
  id: string;
  phase: string;
  error: string | null;
  archiveBytes: number | null;
  file: string | null;
  wallMs: number;
  cpuMs: number;
  mainCpuMs: number;
  loopDelayMs: { p99: number; max: number };
  keyMs: number | null;
  phases: { phase: string; at: number }[];
  idleMiB: number;
  peakAboveIdleMiB: number;
  peakAfterKeyAboveIdleMiB: number | null;
  childPeakMiB: number;
}

function runChild(args: string[], env: Record<string, string>): Promise<ChildResult> {
  const flags = ['--expose-gc', ...API_NODE_FLAGS, ...(PROF ? ['--cpu-prof', '--cpu-prof-dir', PROF] : [])];
  const child = spawn(process.execPath, [...flags, join(import.meta.dirname, 'child.ts'), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`child ${args.join(' ')} exited ${code}`));
      const r = JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult;
      if (r.phase !== 'done') return reject(new Error(`${r.op} ${r.phase}: ${r.error}`));
      resolve(r);
    });
  });
}

/**
 * Runs a shell line under `script` (a pseudo-terminal for age's passphrase prompt), typing the
 * passphrase `prompts` times at once. The line is built here from temp paths this script made.
 */
function underTty(line: string, prompts: number): Promise<Timed> {
  const t0 = performance.now();
  const times = join(root, 'time.txt');
  // GNU time reports the CPU of every process below it (script, bash, tar, gzip, age): all reaped.
  const argv = ['-f', '%U %S', '-o', times, 'script', '-qec', `set -o pipefail; ${line}`, '/dev/null'];
  const child: ChildProcess = spawn('/usr/bin/time', argv, {
    env: { ...process.env, SHELL: '/bin/bash' },
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  child.stdin!.on('error', () => undefined); // the terminal may be gone before the pipe is closed
  child.stdin!.write(`${PASSPHRASE}\n`.repeat(prompts));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      child.stdin!.destroy();
      if (code !== 0) return reject(new Error(`reference exited ${code}: ${line}`));
      const ms = performance.now() - t0;
      const [user, sys] = readFileSync(times, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
      resolve({ wallMs: ms, cpuMs: (user! + sys!) * 1000 });
    });
  });
}

interface Timed {
  wallMs: number;
  cpuMs: number;
}

const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/** Files and bytes under a directory (a check that a restore brought everything back). */
function tally(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    files += 1;
    bytes += statSync(join(e.parentPath, e.name)).size;
  }
  return { files, bytes };
}

const sync = () => spawnSync('sync');
const mbps = (bytes: number, ms: number) => bytes / MiB / (ms / 1000);

/** The middle value; the mean of the two middle ones for an even count. */
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const secs = (ms: number) => (ms / 1000).toFixed(1);
const load = () => loadavg()[0]!.toFixed(1);

async function main() {
  const age = spawnSync('age', ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}, age ${age}; load average ${load()}`,
  );
  const srcData = await newCell(join(root, 'src'));
  const bulk = join(srcData, 'services', 'bench');
  const t = performance.now();
  const gen = generate(bulk, MB);
  console.log(
    `input: ${gen.files} files, ${(gen.bytes / MiB).toFixed(0)} MiB, written in ${secs(performance.now() - t)} s under data/services/bench; ${ROUNDS} round(s)`,
  );
  const entries = readdirSync(srcData).filter((n) => !NOT_STATE.test(n));
  const keygen = spawnSync('age-keygen', { encoding: 'utf8' });
  const recipient = /public key: (age1[0-9a-z]+)/.exec(keygen.stdout)![1]!;
  sync();

  const rows = {
    picBackup: [] as Timed[],
    refBackup: [] as Timed[],
    picRestore: [] as Timed[],
    refRestore: [] as Timed[],
  };
  const mem: { label: string; r: ChildResult }[] = [];
  const stageMs: number[] = [];
  let sizes = { pic: 0, ref: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    const refOut = join(root, `ref-${round}.tar.gz.age`);
    let pic: ChildResult | undefined;
    const picBackup = async () => {
      pic = await runChild(['backup', srcData], { BENCH_PASSPHRASE: PASSPHRASE });
      rows.picBackup.push(pic);
      if (round === 0) mem.push({ label: 'backup, passphrase (scrypt 18)', r: pic });
      sync();
    };
    const refBackup = async () => {
      const line = `tar -cz -C ${q(srcData)} ${entries.map(q).join(' ')} | age -p -o ${q(refOut)} && sync ${q(refOut)}`;
      rows.refBackup.push(await underTty(line, 2));
      sync();
    };
    for (const step of round % 2 === 0 ? [picBackup, refBackup] : [refBackup, picBackup]) await step();
    const archive = join(srcData, 'backups', pic!.file!);
    sizes = { pic: statSync(archive).size, ref: statSync(refOut).size };

    const picRestore = async () => {
      const dstData = await newCell(join(root, `dst-${round}`));
      linkSync(archive, join(dstData, 'backups', pic!.file!));
      const r = await runChild(['restore', dstData, pic!.id], { BENCH_PASSPHRASE: PASSPHRASE });
      rows.picRestore.push(r);
      const swap = r.phases.find((p) => p.phase === 'vault');
      if (swap) stageMs.push(swap.at);
      if (round === 0) mem.push({ label: 'restore, passphrase (scrypt 18)', r });
      const got = tally(join(dstData, 'services', 'bench'));
      if (got.files !== gen.files || got.bytes !== gen.bytes)
        throw new Error(`PIC restored ${got.files} files, ${got.bytes} bytes`);
      sync();
    };
    const refRestore = async () => {
      const dir = join(root, `ref-x-${round}`);
      mkdirSync(dir);
      rows.refRestore.push(await underTty(`age -d ${q(refOut)} | tar -xz -C ${q(dir)}`, 1));
      const got = tally(join(dir, 'services', 'bench'));
      if (got.files !== gen.files || got.bytes !== gen.bytes)
        throw new Error(`the reference restored ${got.files} files, ${got.bytes} bytes`);
      sync();
    };
    for (const step of round % 2 === 0 ? [picRestore, refRestore] : [refRestore, picRestore]) await step();
    const last = (xs: Timed[]) => secs(xs.at(-1)!.wallMs);
    console.log(
      `round ${round + 1}: backup PIC ${last(rows.picBackup)} s, reference ${last(rows.refBackup)} s; restore PIC ${last(rows.picRestore)} s, reference ${last(rows.refRestore)} s; load average ${load()}`,
    );
  }
  // A backup without scrypt's 256 MiB: to an X25519 recipient.
  const rec = await runChild(['backup', srcData], { BENCH_RECIPIENT: recipient });
  mem.push({ label: 'backup, X25519 recipient (no scrypt)', r: rec });
  rmSync(join(srcData, 'backups', rec.file!));

  console.log(
    `\narchive: PIC ${(sizes.pic / MiB).toFixed(1)} MiB, reference ${(sizes.ref / MiB).toFixed(1)} MiB`,
  );
  console.log(
    '\n| operation | PIC s | PIC MiB/s | PIC CPU s | reference s | reference MiB/s | reference CPU s | PIC ÷ reference: median (rounds) |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---|');
  for (const [label, p, r] of [
    ['backup', rows.picBackup, rows.refBackup],
    ['restore', rows.picRestore, rows.refRestore],
  ] as const) {
    const pm = median(p.map((x) => x.wallMs));
    const rm = median(r.map((x) => x.wallMs));
    // Each round's two ran back to back: the median of the rounds' ratios is the figure.
    const ratios = p.map((x, i) => r[i]!.wallMs / x.wallMs);
    const per = ratios.map((x) => x.toFixed(2)).join(', ');
    console.log(
      `| ${label} | ${secs(pm)} | ${mbps(gen.bytes, pm).toFixed(1)} | ${secs(median(p.map((x) => x.cpuMs)))} | ${secs(rm)} | ${mbps(gen.bytes, rm).toFixed(1)} | ${secs(median(r.map((x) => x.cpuMs)))} | **${median(ratios).toFixed(2)}** (${per}) |`,
    );
  }
  if (stageMs.length)
    console.log(
      `PIC restore until staged and verified (passphrase check included, before the swap): ${secs(median(stageMs))} s, ${mbps(gen.bytes, median(stageMs)).toFixed(1)} MiB/s`,
    );
  console.log(
    '\n| PIC process (child) | s | CPU s (event loop) | event-loop delay p99 / max ms | idle RSS MiB | peak above idle MiB | streaming: once the key is ready MiB | scrypt child process: peak RSS MiB |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const { label, r } of mem)
    console.log(
      `| ${label} | ${secs(r.wallMs)} | ${secs(r.cpuMs)} (${secs(r.mainCpuMs)}) | ${r.loopDelayMs.p99.toFixed(0)} / ${r.loopDelayMs.max.toFixed(0)} | ${r.idleMiB.toFixed(0)} | ${r.peakAboveIdleMiB.toFixed(0)} | ${r.peakAfterKeyAboveIdleMiB === null ? '' : r.peakAfterKeyAboveIdleMiB.toFixed(0)} | ${r.childPeakMiB ? r.childPeakMiB.toFixed(0) : ''} |`,
    );
  console.log('(goal: ≥ 1.0 for both ratios; memory flat, under 64 MiB above idle)');
}

// Ctrl-C: the temp dir goes too (the children, in the same process group, get the signal as well).
process.once('SIGINT', () => {
  rmSync(root, { recursive: true, force: true });
  process.exit(130);
});
try {
  await main();
} finally {
  if (KEEP) console.log(`kept ${root}`);
  else rmSync(root, { recursive: true, force: true });
}
