// The time from POST /api/dns/records to the new name being answered, through the real API (a temp
// cell, Fastify inject) and the real driver (UnboundControl), with a resolver polling the new name
// about once a millisecond from the call on. Beside it, in the same run and on the same path, the
// reference: a bare `unbound-control local_data <rr>` of one more name. Paths:
//   local          Unbound on loopback, unbound-control spawned here (what the integration tests do)
//   docker exec    a cell-dns container, one `docker exec` of unbound-control per change (the cell before)
//   session        the same container, one long-lived `docker exec -i pic-dns-control` (the cell now)
import { join } from 'node:path';
import { authed, completeSetup, makeKit } from '../../src/api/test-kit.ts';
import { ControlSession, localSession } from '../../src/drivers/dns/control-session.ts';
import { type Exec, localExec, UnboundControl } from '../../src/drivers/dns/unbound-control.ts';
import { startUnbound } from '../../src/drivers/dns/unbound-kit.ts';
import { openExecSession } from '../../src/drivers/docker/engine.ts';
import { writeRenderedFile } from '../../src/drivers/docker/host-dirs.ts';
import { renderForwardZone } from '../../src/render/unbound/forward-zone.ts';
import { type CellDnsContainer, dockerProblem, startCellDns } from './cell-dns-container.ts';
import { median, msSince, pct } from './measure.ts';
import { Poller } from './poll.ts';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 200);
const HELPER = join(import.meta.dirname, '..', '..', 'images', 'cell-dns', 'pic-dns-control');

interface Path {
  label: string;
  exec: Exec;
  conf: string;
  zonePath: string;
  /** The zone file's directory as the daemon sees it (the container's /etc/pic/unbound). */
  includeDirInDns?: string;
  address: string;
  port: number;
}

interface Timing {
  served: number;
  returned: number;
  after: number;
}

async function measurePath(p: Path, tag: string): Promise<{ api: Timing[]; ref: Timing[] }> {
  const dns = new UnboundControl({
    exec: p.exec,
    conf: p.conf,
    zonePath: p.zonePath,
    ...(p.includeDirInDns ? { includeDirInDns: p.includeDirInDns } : {}),
    writeFile: (path, content) => void writeRenderedFile({ path, content }),
  });
  const kit = await makeKit({}, { dns, background: false });
  const poller = new Poller(p.address, p.port);
  try {
    const admin = await completeSetup(kit);
    const first = await kit.cell.deps.dns.apply();
    if (!first.applied) throw new Error(`${p.label}: the first apply failed`);
    const zone = kit.cell.deps.dns.zoneName();
    const timed = async (name: string, call: () => Promise<void>): Promise<Timing> => {
      const t0 = process.hrtime.bigint();
      const seen = poller.until(`${name}.${zone}`);
      await call();
      const returned = msSince(t0);
      const served = Number((await seen) - t0) / 1e6;
      return { served, returned, after: Math.max(0, served - returned) };
    };
    const api: Timing[] = [];
    const ref: Timing[] = [];
    for (let i = -3; i < RECORDS; i++) {
      const value = `192.0.2.${(Math.abs(i) % 250) + 1}`;
      const a = await timed(`${tag}rec${i + 3}`, async () => {
        const r = await kit.app.inject({
          method: 'POST',
          url: '/api/dns/records',
          headers: authed(admin),
          payload: { name: `${tag}rec${i + 3}`, type: 'A', value },
        });
        if (r.statusCode !== 201) throw new Error(`POST: ${r.statusCode} ${r.body}`);
      });
      const b = await timed(`${tag}ref${i + 3}`, async () => {
        const rr = `${tag}ref${i + 3}.${zone}. 300 IN A ${value}`;
        const r = await p.exec(['unbound-control', '-c', p.conf, 'local_data', rr]);
        if (r.exitCode !== 0 || /^error/m.test(r.stdout))
          throw new Error(`local_data: ${r.stdout}${r.stderr}`);
      });
      if (i >= 0) {
        api.push(a);
        ref.push(b);
      }
    }
    return { api, ref };
  } finally {
    poller.close();
    await kit.app.close();
    kit.cell.close();
  }
}

const f = (x: number) => x.toFixed(1).padStart(6);

function report(label: string, r: { api: Timing[]; ref: Timing[] }): void {
  const m = (xs: Timing[], k: keyof Timing) =>
    `${f(median(xs.map((t) => t[k])))} / ${f(
      pct(
        xs.map((t) => t[k]),
        0.95,
      ),
    )}`;
  console.log(
    `${label.padEnd(12)} | ${m(r.api, 'served')} | ${m(r.api, 'returned')} | ${m(r.api, 'after')} | ${m(r.ref, 'served')} | ${(median(r.api.map((t) => t.served)) / median(r.ref.map((t) => t.served))).toFixed(2)}×`,
  );
}

export async function benchChange(dir: string): Promise<void> {
  console.log(`\nrecord change → served (ms, median / p95 of ${RECORDS} records; the reference interleaved)`);
  console.log(
    'path         | POST call → served | POST call → return | return → served | bare local_data → served | ratio',
  );
  const ub = await startUnbound({ files: { 'forward.conf': renderForwardZone({ forwarders: [] }).output } });
  try {
    const local = {
      conf: ub.conf,
      zonePath: join(ub.includeDir, 'zone.conf'),
      address: ub.address,
      port: ub.port,
    };
    report('local', await measurePath({ label: 'local', exec: localExec, ...local }, 'l'));
    const session = new ControlSession(localSession(HELPER));
    try {
      report('local helper', await measurePath({ label: 'local helper', exec: session.exec, ...local }, 'h'));
    } finally {
      session.close();
    }
  } finally {
    await ub.stop();
  }
  const why = await dockerProblem();
  if (why) {
    console.log(`docker paths skipped: ${why}`);
    return;
  }
  let c: CellDnsContainer | undefined;
  try {
    c = await startCellDns(dir);
    const engine = c.engine;
    const name = c.name;
    const inCell = {
      conf: '/etc/unbound/unbound.conf',
      zonePath: join(c.confDir, 'zone.conf'),
      // zone.conf names the policy zones (ADR 0020) at their path in the container.
      includeDirInDns: '/etc/pic/unbound',
      address: c.address,
      port: 53,
    };
    const perChange: Exec = (argv, o) => engine.exec(name, argv, o ?? {});
    report('docker exec', await measurePath({ label: 'docker exec', exec: perChange, ...inCell }, 'd'));
    const session = new ControlSession(() =>
      openExecSession(engine, name, ['/usr/local/bin/pic-dns-control']),
    );
    try {
      report('session', await measurePath({ label: 'session', exec: session.exec, ...inCell }, 's'));
    } finally {
      session.close();
    }
  } finally {
    c?.stop();
  }
}
