// The bisection by construction without sockets: `node bench/api/bisect-inject.ts DATA_DIR COOKIE
// [N] [ROUNDS]` builds every step of bisect-app.ts in this one process (one cell, opened like `pic
// serve` opens it) and runs N `inject()` calls of each step in turn, ROUNDS times (default 2000 × 15),
// printing the median CPU µs per request of each step and its difference from the step before. The
// steps alternate every few milliseconds, so a change of the machine's background load hits them all
// alike: on a shared machine this moves far less than the socket bisection (bisect.ts). What it does
// not show: the HTTP parser, the socket write and the `cell` step (the cell is in the process for all).
import type { FastifyInstance } from 'fastify';
import { createCell } from '../../src/composition.ts';
import { buildStep } from './bisect-app.ts';
import { STEPS } from './bisect-steps.ts';

const [dataDir, cookie, nArg, roundsArg] = process.argv.slice(2);
if (!dataDir || !cookie) throw new Error('usage: bisect-inject.ts DATA_DIR COOKIE [N] [ROUNDS]');
const N = Number(nArg ?? 2000);
const ROUNDS = Number(roundsArg ?? 15);
const cell = createCell({ dataDir, echoLogs: false, docker: false });
const apps = new Map<string, FastifyInstance>();
for (const step of STEPS) {
  const app = await buildStep(step, cell);
  await app.ready();
  apps.set(step, app);
}

async function run(app: FastifyInstance, url: string): Promise<number> {
  const t = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const r = await app.inject({ method: 'GET', url, headers: { host: '127.0.0.1', cookie } });
    if (r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode} ${r.body}`);
  }
  const d = process.cpuUsage(t);
  return (d.user + d.system) / N;
}

const times = new Map<string, number[]>(STEPS.map((s) => [s, []]));
for (let round = -1; round < ROUNDS; round++) {
  for (const step of STEPS) {
    const us = await run(apps.get(step)!, step === 'hello' ? '/hello' : '/api/auth/me');
    if (round >= 0) times.get(step)!.push(us); // round -1 warms up
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`inject(), ${N} requests × ${ROUNDS} interleaved rounds, median CPU µs/request\n`);
console.log('| step | CPU µs/req | Δ µs |');
console.log('|---|---:|---:|');
let prev: number | undefined;
for (const step of STEPS) {
  const us = median(times.get(step)!);
  console.log(`| ${step} | ${us.toFixed(1)} | ${prev === undefined ? '' : (us - prev).toFixed(1)} |`);
  prev = us;
}
for (const app of apps.values()) await app.close();
cell.close();
