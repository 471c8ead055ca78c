// API benchmark (issue 2, item 9; issue 8, item 8). Not run by CI: `npm run bench:api`.
//
// Starts `pic serve` as a child process on a temp data dir, completes setup and keeps the session
// cookie, starts a bare Fastify hello server the same way, then runs autocannon (50 connections,
// BENCH_SECONDS each, default 5) against GET /api/auth/me and GET /api/config with the cookie and
// against the hello route, in BENCH_ROUNDS interleaved rounds (default 3 × 5 s per route). Prints the
// median requests/s, p99 latency and the ratio to the hello route (the goal: /api/auth/me ≥ 0.5), and the
// RSS of the pic process idle (before load) and loaded (peak while loaded, from /proc/<pid>/status).
// Only loopback traffic; every child is stopped at the end.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

interface CannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  '2xx': number;
}
type Cannon = (opts: {
  url: string;
  connections: number;
  duration: number;
  headers?: Record<string, string>;
}) => Promise<CannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;

const ROOT = join(import.meta.dirname, '..', '..');
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 50;

/**
 * BENCH_CPU_PROF=DIR writes a V8 CPU profile of `pic serve` and of the reference there, named by pid
 * (printed at the end); `node bench/api/profile-summary.ts FILE` sums it per function. The profiler
 * samples wall time: on a loaded machine the time a process waits for a CPU lands on whatever it was
 * running (mostly the socket write that wakes the load generator), so read CPU µs/req beside it.
 */
function nodeFlags(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', '--cpu-prof-dir', dir] : [];
}

/** Spawns `node <args>` and resolves with the first stdout line matching `pattern`. */
function start(
  args: string[],
  pattern: RegExp,
): Promise<{ child: ChildProcess; match: RegExpMatchArray; out: () => string }> {
  const child = spawn(NODE, [...nodeFlags(), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.match(pattern);
      if (m) resolve({ child, match: m, out: () => out });
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}):\n${out}`)));
  });
}

/** CPU time (user + system) a process has used, in ms (from /proc/<pid>/stat, in clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  // Fields after the command name (which may hold spaces) start at state; utime and stime are 14 and 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** VmRSS and VmHWM of a process, in MiB. */
function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
}

interface Measured {
  rps: number;
  /** CPU time of the server per request, in µs: the server's own cost, whatever the load generator does. */
  cpuUs: number;
  p50: number;
  p99: number;
  peak: number;
}

/** The round with the median requests/s (its latencies and memory come with it). */
function median(runs: Measured[]): Measured {
  const sorted = [...runs].sort((a, b) => a.rps - b.rps);
  return { ...sorted[Math.floor(sorted.length / 2)]!, peak: Math.max(...runs.map((r) => r.peak)) };
}

async function load(url: string, headers: Record<string, string>, pid: number): Promise<Measured> {
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, memory(pid).rss);
  }, 100);
  const cpu0 = cpuMs(pid);
  const r = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, headers });
  const cpuUs = ((cpuMs(pid) - cpu0) * 1000) / r.requests.total;
  clearInterval(sampler);
  const bad = r.non2xx + r.errors + r.timeouts;
  if (bad > 0) throw new Error(`${url}: ${bad} failed requests (non-2xx ${r.non2xx}, errors ${r.errors})`);
  return { rps: r.requests.average, cpuUs, p50: r.latency.p50, p99: r.latency.p99, peak };
}

const dir = mkdtempSync(join(tmpdir(), 'pic-bench-'));
const children: ChildProcess[] = [];
try {
  const pic = await start(
    ['src/cli/main.ts', 'serve', '--data-dir', join(dir, 'data'), '--listen', '127.0.0.1:0'],
    /listening on (http:\/\/[\d.:]+)[\s\S]*\n([a-z2-9]{5}(?:-[a-z2-9]{5}){3})\n/,
  );
  children.push(pic.child);
  const base = pic.match[1]!;
  const token = pic.match[2]!;
  const setup = await fetch(`${base}/api/setup/complete`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      token,
      cell_name: 'bench',
      domain_mode: 'local',
      timezone: 'UTC',
      admin_password: 'benchmark password 1',
      services: [],
    }),
  });
  if (setup.status !== 201) throw new Error(`setup failed: ${setup.status} ${await setup.text()}`);
  const login = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'benchmark password 1' }),
  });
  const cookie = (login.headers.get('set-cookie') ?? '').match(/(?:^|,\s*)(pic_session=[^;]+)/)?.[1];
  const { csrf_token: csrf } = (await login.json()) as { csrf_token: string };
  if (!cookie || !csrf) throw new Error('login gave no session');
  const headers = { cookie, 'x-csrf-token': csrf };

  const hello = await start(['bench/api/hello-server.ts'], /(http:\/\/[\d.:]+)/);
  children.push(hello.child);

  await new Promise((r) => setTimeout(r, 1000));
  const picPid = pic.child.pid!;
  const idle = memory(picPid);
  const helloIdle = memory(hello.child.pid!);

  // Warm-up (JIT, caches), not measured.
  await autocannon({ url: `${base}/api/auth/me`, connections: 10, duration: 2, headers });
  await autocannon({ url: `${hello.match[1]}/hello`, connections: 10, duration: 2 });

  // Interleaved rounds, each route once per round, and the median per route: the machine is shared
  // (other processes, the load generator itself), so a reference measured minutes apart from the
  // route it is compared with would drift with the background load.
  const rounds: { ref: Measured; me: Measured; config: Measured }[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    rounds.push({
      ref: await load(`${hello.match[1]}/hello`, {}, hello.child.pid!),
      me: await load(`${base}/api/auth/me`, headers, picPid),
      config: await load(`${base}/api/config`, headers, picPid),
    });
  }
  const ref = median(rounds.map((r) => r.ref));
  const me = median(rounds.map((r) => r.me));
  const config = median(rounds.map((r) => r.config));
  const meRatios = rounds.map((r) => r.me.rps / r.ref.rps).sort((a, b) => a - b);
  const after = memory(picPid);

  const row = (name: string, r: Measured) =>
    `| ${name.padEnd(28)} | ${r.rps.toFixed(0).padStart(8)} | ${String(r.p50).padStart(7)} | ${String(r.p99).padStart(7)} | ${(r.rps / ref.rps).toFixed(2).padStart(13)} | ${r.cpuUs.toFixed(0).padStart(11)} |`;
  const cpu = cpus();
  console.log(
    `\nmachine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}`,
  );
  console.log(
    `autocannon: ${CONNECTIONS} connections, ${SECONDS} s per route and round, ${ROUNDS} interleaved rounds (median), loopback, after a 2 s warm-up\n`,
  );
  console.log('| route                        |    req/s | p50 ms | p99 ms | ratio to hello | CPU µs/req |');
  console.log(
    '|------------------------------|---------:|--------:|--------:|--------------:|------------:|',
  );
  console.log(row('GET /hello (bare Fastify)', ref));
  console.log(row('GET /api/auth/me (session)', me));
  console.log(row('GET /api/config (admin)', config));
  console.log('');
  console.log(
    `GET /api/auth/me ÷ GET /hello: ${(me.rps / ref.rps).toFixed(2)} (per round: ${meRatios.map((r) => r.toFixed(2)).join(', ')}; goal ≥ 0.50)`,
  );
  console.log('');
  console.log(`pic serve RSS idle (after setup, before load): ${idle.rss.toFixed(1)} MiB`);
  console.log(
    `pic serve RSS loaded (peak sampled while loaded): ${Math.max(me.peak, config.peak).toFixed(1)} MiB; VmHWM ${after.hwm.toFixed(1)} MiB`,
  );
  console.log(
    `reference (bare Fastify) RSS idle ${helloIdle.rss.toFixed(1)} MiB, loaded ${ref.peak.toFixed(1)} MiB`,
  );
  if (process.env.BENCH_CPU_PROF)
    console.log(
      `CPU profiles in ${process.env.BENCH_CPU_PROF}: pic serve pid ${picPid}, reference pid ${hello.child.pid}`,
    );
} finally {
  for (const c of children) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
