// Bisection by construction of the GET /api/auth/me gap (issue 8): `node bench/api/bisect.ts [STEP...]`.
// Sets up a cell with `pic serve` (then stops it), and for each step of bench/api/bisect-server.ts —
// a bare Fastify hello route growing into pic's app one piece at a time — starts that server alone,
// loads it with autocannon (50 connections, BENCH_SECONDS, default 2, after a 1 s warm-up) and reads
// the server's CPU time per request from /proc. BENCH_ROUNDS (default 5) passes over all steps, median
// per step. CPU µs/request is the figure: on a shared machine it moves far less than req/s.
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STEPS } from './bisect-steps.ts';

type Cannon = (opts: {
  url: string;
  connections: number;
  duration: number;
  headers?: Record<string, string>;
}) => Promise<{ requests: { average: number; total: number }; non2xx: number; errors: number }>;
const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;

const ROOT = join(import.meta.dirname, '..', '..');
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const steps = process.argv.length > 2 ? process.argv.slice(2) : [...STEPS];

function start(args: string[], pattern: RegExp): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(NODE, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.match(pattern);
      if (m) resolve({ child, match: m });
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}):\n${out}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

const dir = mkdtempSync(join(tmpdir(), 'pic-bisect-'));
const dataDir = join(dir, 'data');
try {
  const pic = await start(
    ['src/cli/main.ts', 'serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0'],
    /listening on (http:\/\/[\d.:]+)[\s\S]*\n([a-z2-9]{5}(?:-[a-z2-9]{5}){3})\n/,
  );
  const base = pic.match[1]!;
  const post = (path: string, body: unknown) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const setup = await post('/api/setup/complete', {
    token: pic.match[2],
    cell_name: 'bench',
    domain_mode: 'local',
    timezone: 'UTC',
    admin_password: 'benchmark password 1',
    services: [],
  });
  if (setup.status !== 201) throw new Error(`setup: ${setup.status}`);
  const login = await post('/api/auth/login', { username: 'admin', password: 'benchmark password 1' });
  const cookie = (login.headers.get('set-cookie') ?? '').match(/(?:^|,\s*)(pic_session=[^;]+)/)?.[1];
  if (!cookie) throw new Error('no session');
  await stop(pic.child);

  // Every step's server runs at once (idle ones cost nothing) and the rounds go over the steps in
  // turn: on a shared machine the background load drifts, and a step measured minutes after another
  // would compare two loads, not two servers.
  const servers = new Map<string, { child: ChildProcess; url: string }>();
  const results = new Map<string, { rps: number; us: number }[]>();
  // The same request bytes at every step (pic's cookie), so only the server changes.
  const headers = { cookie };
  try {
    for (const step of steps) {
      // A copy of the cell per server: several processes opening one database at once may meet a lock.
      const own = join(dir, `data-${step}`);
      cpSync(dataDir, own, { recursive: true });
      const s = await start(['bench/api/bisect-server.ts', step, own], /(http:\/\/[\d.:]+)/);
      servers.set(step, {
        child: s.child,
        url: `${s.match[1]}${step.startsWith('hello') ? '/hello' : '/api/auth/me'}`,
      });
      await autocannon({ url: servers.get(step)!.url, connections: 50, duration: 1, headers });
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const step of steps) {
        const { child, url } = servers.get(step)!;
        const c0 = cpuMs(child.pid!);
        const r = await autocannon({ url, connections: 50, duration: SECONDS, headers });
        const us = ((cpuMs(child.pid!) - c0) * 1000) / r.requests.total;
        if (r.non2xx + r.errors > 0) throw new Error(`${step}: ${r.non2xx} non-2xx, ${r.errors} errors`);
        const list = results.get(step) ?? [];
        list.push({ rps: r.requests.average, us });
        results.set(step, list);
        console.error(
          `round ${round + 1} ${step}: ${r.requests.average.toFixed(0)} req/s, ${us.toFixed(1)} µs`,
        );
      }
    }
  } finally {
    for (const s of servers.values()) await stop(s.child);
  }
  const med = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  console.log(`\n${ROUNDS} rounds × ${SECONDS} s per step, 50 connections, median\n`);
  console.log('| step | req/s | CPU µs/req | Δ µs vs previous |');
  console.log('|---|---:|---:|---:|');
  let prev: number | undefined;
  for (const step of steps) {
    const rs = results.get(step)!;
    const us = med(rs.map((r) => r.us));
    const rps = med(rs.map((r) => r.rps));
    console.log(
      `| ${step} | ${rps.toFixed(0)} | ${us.toFixed(1)} | ${prev === undefined ? '' : (us - prev).toFixed(1)} |`,
    );
    prev = us;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
