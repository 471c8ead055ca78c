// Sums the self time per function of a V8 CPU profile (`BENCH_CPU_PROF=DIR npm run bench:api` writes
// one): `node bench/api/profile-summary.ts DIR/x.cpuprofile [top]`. Prints each function's share of
// the busy time (idle and GC apart) and the share per source file, so a profile is read without a browser.
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile [top]');
const top = Number(topArg ?? 40);
const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
for (let i = 0; i < prof.samples.length; i++)
  self.set(prof.samples[i]!, (self.get(prof.samples[i]!) ?? 0) + (prof.timeDeltas[i] ?? 0));

const short = (url: string) => url.replace(/^file:\/\/.*?\/(node_modules|src|bench)\//, '$1/') || '(native)';
const perFn = new Map<string, number>();
const perFile = new Map<string, number>();
let busy = 0;
let total = 0;
for (const [id, us] of self) {
  const n = byId.get(id)!;
  total += us;
  const name = n.callFrame.functionName || '(anonymous)';
  if (name === '(idle)' || name === '(program)') continue;
  busy += us;
  const key = `${name} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  perFn.set(key, (perFn.get(key) ?? 0) + us);
  const f = name === '(garbage collector)' ? '(gc)' : short(n.callFrame.url).replace(/:\d+$/, '');
  perFile.set(f, (perFile.get(f) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
console.log(`busy ${(busy / 1e6).toFixed(2)} s of ${(total / 1e6).toFixed(2)} s profiled\n`);
console.log('self time per function:');
for (const [k, us] of [...perFn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`);
console.log('\nself time per file:');
for (const [k, us] of [...perFile].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`);
