// What counting blocked queries per peer costs (ADR 0020, amendment): two Unbounds with the cell's
// configuration and the real blocklist policy zones (RPZ, BENCH_BLOCKLIST names, loaded by the real
// driver), side by side, same load generator and query mixes, interleaved rounds:
//   - *not counted*: the blocklist zone without rpz-log (the cell before the counts);
//   - *counted*: rpz-log on, Unbound's stderr through the image's pic-dns-blocked (as the entrypoint
//     runs it), drained after each round as cell-api drains it.
// Two mixes from the load's peer: the usual names with one blocked name in ten, and blocked names only
// (the worst case: a log line per query). Per query: Unbound's CPU, and the tap's CPU beside it. After
// each all-blocked round the drained total must equal the NXDOMAIN answers dnsperf counted.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BlockedNames } from '../../src/core/ports/dns-server.ts';
import { writeFileAtomic } from '../../src/drivers/atomic-file.ts';
import { localExec, UnboundControl } from '../../src/drivers/dns/unbound-control.ts';
import { startUnbound, type TestUnbound } from '../../src/drivers/dns/unbound-kit.ts';
import { renderForwardZone } from '../../src/render/unbound/forward-zone.ts';
import { cellZone, LOAD_PEER, queryMix } from './cell-dns-config.ts';
import { cpuMs, median } from './measure.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8);
const OUTSTANDING = Number(process.env.BENCH_OUTSTANDING ?? 100);
const NAMES = Number(process.env.BENCH_BLOCKLIST ?? 50_000);

const blockedName = (i: number) => `ads${i}.tracker${i % 97}.example`;

interface Run {
  qps: number;
  cpuUs: number;
  tapUs: number;
  nxdomain: number;
}

function dnsperf(ub: TestUnbound, data: string): Promise<string> {
  const args = ['-s', ub.address, '-p', String(ub.port), '-a', LOAD_PEER.source, '-d', data];
  args.push('-l', String(SECONDS), '-c', String(CLIENTS), '-T', '1', '-q', String(OUTSTANDING));
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

async function measure(ub: TestUnbound, pid: number, data: string): Promise<Run> {
  const cpu0 = cpuMs(pid);
  const tap0 = ub.tapPid ? cpuMs(ub.tapPid) : 0;
  const out = await dnsperf(ub, data);
  const cpu = cpuMs(pid) - cpu0;
  const tap = ub.tapPid ? cpuMs(ub.tapPid) - tap0 : 0;
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN);
  const completed = num(/Queries completed:\s+(\d+)/);
  const codes = /Response codes:\s+(.*)/.exec(out)?.[1] ?? '';
  if (!(completed > 0) || /SERVFAIL|REFUSED|FORMERR/.test(codes))
    throw new Error(`unexpected dnsperf result:\n${out}`);
  return {
    qps: num(/Queries per second:\s+([\d.]+)/),
    cpuUs: (cpu * 1000) / completed,
    tapUs: (tap * 1000) / completed,
    nxdomain: Number(/NXDOMAIN (\d+)/.exec(codes)?.[1] ?? 0),
  };
}

/** An Unbound with the cell's zone and the policy zones, loaded through the real driver. */
async function start(counted: boolean): Promise<{ ub: TestUnbound; control: UnboundControl }> {
  const ub = await startUnbound({
    files: { 'forward.conf': renderForwardZone({ forwarders: [] }).output },
    tap: counted,
  });
  const control = new UnboundControl({
    exec: localExec,
    conf: ub.conf,
    zonePath: join(ub.includeDir, 'zone.conf'),
    writeFile: (p, c) => writeFileAtomic(p, c),
    ...(ub.drainArgv ? { drainArgv: ub.drainArgv } : {}),
  });
  const names = Array.from({ length: NAMES }, (_, i) => blockedName(i));
  const blocked: BlockedNames = { digest: String(NAMES), names: () => names };
  await control.apply(cellZone(), blocked);
  if (!counted) {
    // The cell before the counts: the same file without the blocklist zone's rpz-log lines.
    const path = join(ub.includeDir, 'zone.conf');
    writeFileSync(path, readFileSync(path, 'utf8').replace(/^ {4}rpz-log(-name)?: .*\n/gm, ''));
    const r = await localExec(['unbound-control', '-c', ub.conf, 'reload']);
    if (r.exitCode !== 0) throw new Error(`reload: ${r.stdout}${r.stderr}`);
    for (let i = 0; i < 200; i++) {
      if ((await localExec(['unbound-control', '-c', ub.conf, 'status'])).exitCode === 0) break;
      await new Promise((res) => setTimeout(res, 50)); // polling a condition (control answers again)
    }
  }
  return { ub, control };
}

export async function benchBlocked(dir: string): Promise<void> {
  const zone = cellZone();
  const mixed = join(dir, 'blocked-mixed.txt');
  queryMix(mixed, zone);
  const usual = readFileSync(mixed, 'utf8').trim().split('\n');
  const withBlocked = usual.flatMap((l, i) => (i % 9 === 8 ? [l, `${blockedName(i * 7)} A`] : [l]));
  writeFileSync(mixed, `${withBlocked.join('\n')}\n`);
  const onlyBlocked = join(dir, 'blocked-only.txt');
  writeFileSync(
    onlyBlocked,
    `${Array.from({ length: 400 }, (_, i) => `${blockedName(i * 113)} A`).join('\n')}\n`,
  );

  const off = await start(false);
  const on = await start(true);
  try {
    const offPid = await pidOf(off.ub);
    const onPid = await pidOf(on.ub);
    console.log(
      `\nblocked-query counts — the cell's zone and views, the real policy zones with ${NAMES} names; load from ` +
        `peer ${LOAD_PEER.vpn}; dnsperf -c ${CLIENTS} -q ${OUTSTANDING}, ${ROUNDS} rounds × ${SECONDS} s`,
    );
    for (const [label, data] of [
      [`mix: ${withBlocked.length} names, 1 in 10 blocked`, mixed],
      ['mix: blocked names only (a log line per query)', onlyBlocked],
    ] as const) {
      const offRuns: Run[] = [];
      const onRuns: Run[] = [];
      await on.control.drainBlocked();
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 ? ['on', 'off'] : ['off', 'on'];
        for (const which of order) {
          if (which === 'off') offRuns.push(await measure(off.ub, offPid, data));
          else {
            const run = await measure(on.ub, onPid, data);
            onRuns.push(run);
            // Drained as cell-api does; the tap may still be reading the round's last lines: poll.
            let drained = 0;
            const deadline = Date.now() + 10_000;
            while (Date.now() < deadline) {
              drained += ((await on.control.drainBlocked())?.counts ?? []).reduce((n, c) => n + c.count, 0);
              if (data === mixed || drained >= run.nxdomain) break;
              await new Promise((r) => setTimeout(r, 50)); // polling a condition (the counts are in)
            }
            if (data === onlyBlocked && drained !== run.nxdomain)
              throw new Error(`counted ${drained} blocked queries, dnsperf saw ${run.nxdomain} NXDOMAIN`);
          }
        }
        const a = offRuns.at(-1)!;
        const b = onRuns.at(-1)!;
        console.log(
          `  round ${round + 1}: not counted ${a.qps.toFixed(0)} q/s (${a.cpuUs.toFixed(1)} µs/q), counted ` +
            `${b.qps.toFixed(0)} q/s (${b.cpuUs.toFixed(1)} µs/q + tap ${b.tapUs.toFixed(1)} µs/q)`,
        );
      }
      const m = (runs: Run[], k: keyof Run) => median(runs.map((r) => r[k]));
      console.log(`${label}`);
      console.log(
        'server        | queries/s (median) | Unbound CPU µs/q | tap CPU µs/q | ratio (q/s) | ratio (Unbound CPU/q)',
      );
      console.log(
        `not counted   | ${m(offRuns, 'qps').toFixed(0).padStart(18)} | ${m(offRuns, 'cpuUs').toFixed(1).padStart(16)} |            — |        1.00 |                  1.00`,
      );
      console.log(
        `counted       | ${m(onRuns, 'qps').toFixed(0).padStart(18)} | ${m(onRuns, 'cpuUs').toFixed(1).padStart(16)} | ${m(onRuns, 'tapUs').toFixed(1).padStart(12)} | ${(m(onRuns, 'qps') / m(offRuns, 'qps')).toFixed(2).padStart(11)} | ${(m(onRuns, 'cpuUs') / m(offRuns, 'cpuUs')).toFixed(2).padStart(21)}`,
      );
    }
  } finally {
    await off.ub.stop();
    await on.ub.stop();
  }
}
