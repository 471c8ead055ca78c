// Queries per second through Unbound configured as cell-dns is, beside a minimal Unbound (the same
// records in one local zone), same machine, same load generator (dnsperf), same query mix, interleaved
// rounds (the order alternates), median. Also each Unbound's CPU time per answered query (from
// /proc/<pid>/stat): unlike queries/s it hardly moves when the load generator or other jobs take CPU.
import { spawn } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { localExec } from '../../src/drivers/dns/unbound-control.ts';
import { startUnbound, type TestUnbound } from '../../src/drivers/dns/unbound-kit.ts';
import {
  BLOCKLIST_SIZE,
  cellFiles,
  cellZone,
  LOAD_PEER,
  queryMix,
  referenceFiles,
  ZONE,
} from './cell-dns-config.ts';
import { cpuMs, median } from './measure.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** dnsperf: simulated clients, threads, queries outstanding. */
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8);
const THREADS = Number(process.env.BENCH_THREADS ?? 1);
const OUTSTANDING = Number(process.env.BENCH_OUTSTANDING ?? 100);

interface Run {
  qps: number;
  cpuUs: number;
  lost: number;
  codes: string;
}

function dnsperf(ub: TestUnbound, source: string, data: string): Promise<string> {
  const args = ['-s', ub.address, '-p', String(ub.port), '-a', source, '-d', data];
  args.push('-l', String(SECONDS), '-c', String(CLIENTS), '-T', String(THREADS), '-q', String(OUTSTANDING));
  return new Promise((resolve, reject) => {
    const child = spawn('dnsperf', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`dnsperf ${code}: ${out}`))));
  });
}

async function pidOf(ub: TestUnbound): Promise<number> {
  const st = await localExec(['unbound-control', '-c', ub.conf, 'status']);
  const pid = Number(/pid (\d+)/.exec(st.stdout)?.[1]);
  if (!pid) throw new Error(`no pid in unbound-control status: ${st.stdout}`);
  return pid;
}

async function measure(ub: TestUnbound, pid: number, source: string, data: string): Promise<Run> {
  const cpu0 = cpuMs(pid);
  const out = await dnsperf(ub, source, data);
  const cpu = cpuMs(pid) - cpu0;
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN);
  const completed = num(/Queries completed:\s+(\d+)/);
  const run = {
    qps: num(/Queries per second:\s+([\d.]+)/),
    cpuUs: (cpu * 1000) / completed,
    lost: num(/Queries lost:\s+(\d+)/),
    codes: /Response codes:\s+(.*)/.exec(out)?.[1] ?? '',
  };
  if (!(run.qps > 0) || /SERVFAIL|REFUSED|FORMERR/.test(run.codes))
    throw new Error(`unexpected dnsperf result:\n${out}`);
  return run;
}

/** The load's peer really goes through its view (ntp denied), and the blocklist answers. */
async function checkViews(cell: TestUnbound): Promise<void> {
  const ask = (from: string, name: string) => {
    const r = new Resolver({ timeout: 2000, tries: 1 });
    r.setServers([`${cell.address}:${cell.port}`]);
    r.setLocalAddress(from);
    return r.resolve4(name).catch((e: NodeJS.ErrnoException) => e.code);
  };
  const checks: Array<[string, string, unknown]> = [
    ['127.0.0.1', `ntp.${ZONE}`, ['127.0.0.4']],
    [LOAD_PEER.source, `ntp.${ZONE}`, 'ENOTFOUND'],
    [LOAD_PEER.source, `web.${ZONE}`, ['127.0.0.2']],
    ...(BLOCKLIST_SIZE
      ? [[LOAD_PEER.source, 'ads1.tracker1.example', 'ENOTFOUND'] as [string, string, unknown]]
      : []),
  ];
  for (const [from, name, want] of checks) {
    const got = await ask(from, name);
    if (JSON.stringify(got) !== JSON.stringify(want))
      throw new Error(`${name} from ${from}: ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  }
}

export async function benchQps(dir: string): Promise<void> {
  const zone = cellZone();
  const data = join(dir, 'queries.txt');
  const names = queryMix(data, zone);
  const cell = await startUnbound({ files: cellFiles(zone) });
  const ref = await startUnbound({ files: referenceFiles(zone) });
  try {
    const cellPid = await pidOf(cell);
    const refPid = await pidOf(ref);
    const zoneLines = readFileSync(join(cell.includeDir, 'zone.conf'), 'utf8').split('\n').length;
    console.log(
      `\nqueries/s — cell-dns config: zone.conf ${zoneLines} lines (${zone.records.length} records, ${zone.views.length} views), ` +
        `blocklist stand-in ${BLOCKLIST_SIZE} always_nxdomain zones; load from peer ${LOAD_PEER.vpn} (source ${LOAD_PEER.source}, its view)`,
    );
    console.log(
      `reference: the same records in one local zone, no views, no blocklist; load from 127.0.0.1. ` +
        `dnsperf -c ${CLIENTS} -T ${THREADS} -q ${OUTSTANDING}, ${names} names, ${ROUNDS} rounds × ${SECONDS} s`,
    );
    await checkViews(cell);
    const cellRuns: Run[] = [];
    const refRuns: Run[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 ? ['cell', 'ref'] : ['ref', 'cell'];
      for (const which of order) {
        if (which === 'cell') cellRuns.push(await measure(cell, cellPid, LOAD_PEER.source, data));
        else refRuns.push(await measure(ref, refPid, '127.0.0.1', data));
      }
      const c = cellRuns.at(-1)!;
      const r = refRuns.at(-1)!;
      console.log(
        `  round ${round + 1}: cell ${c.qps.toFixed(0)} q/s (${c.cpuUs.toFixed(1)} CPU µs/q, lost ${c.lost}), ` +
          `reference ${r.qps.toFixed(0)} q/s (${r.cpuUs.toFixed(1)} CPU µs/q, lost ${r.lost}), ratio ${(c.qps / r.qps).toFixed(2)}`,
      );
    }
    const cq = median(cellRuns.map((r) => r.qps));
    const rq = median(refRuns.map((r) => r.qps));
    const cc = median(cellRuns.map((r) => r.cpuUs));
    const rc = median(refRuns.map((r) => r.cpuUs));
    console.log(`  response codes (cell, last round): ${cellRuns.at(-1)!.codes}`);
    console.log('server              | queries/s (median) | CPU µs/query | ratio (q/s) | ratio (CPU/q)');
    console.log(
      `reference (1 zone)  | ${rq.toFixed(0).padStart(18)} | ${rc.toFixed(1).padStart(12)} |        1.00 |          1.00`,
    );
    console.log(
      `cell-dns config     | ${cq.toFixed(0).padStart(18)} | ${cc.toFixed(1).padStart(12)} | ${(cq / rq).toFixed(2).padStart(11)} | ${(cc / rc).toFixed(2).padStart(13)}`,
    );
  } finally {
    await cell.stop();
    await ref.stop();
  }
}
