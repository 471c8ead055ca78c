// HTTPS benchmark (issue 10, item 9). Not run by CI: `npm run bench:https`.
//
// The UI over HTTPS through cell-caddy's rendered config beside a bare Caddy file_server of the same
// directory with the same certificate and key (bench/https/configs.ts), both run by the real `caddy`
// on loopback ports. The certificate is the cell CA's, issued by a temp cell (makeKit + setup, local
// mode) and delivered by FrontDoorTls as cell-api delivers it. h2load (h2load.ts: Debian's
// nghttp2-client, C, one thread; 50 keep-alive connections, one request at a time each, SNI and
// authority = the cell's domain) loads GET / (index.html) over HTTP/1.1 (the goal's row) and over
// HTTP/2, then what a browser asks over HTTP/2 (GET / with its Accept-Encoding, the UI's script), on
// each server in BENCH_ROUNDS interleaved rounds (default 3 × BENCH_SECONDS = 5 s per server and
// request), and prints the median req/s, p50/p99, the CPU µs/req of each Caddy (/proc/<pid>/stat),
// its heap allocations and bytes per request (Go's memstats from the admin API's /debug/vars: exact
// counts, unlike CPU time, whatever else runs on the machine) and the ratio cell ÷ bare (goal ≥ 0.9
// for GET /); then BENCH_ROUNDS paired rounds of GET / with both Caddys loaded at the same time (25
// connections each): a ratio that stays comparable from run to run on a shared machine.
// BENCH_LOADGEN=autocannon loads with autocannon (in this process, HTTP/1.1 only), as runs before
// 2026-12-04's fourth session did.
//
// Neither generator verifies the server's certificate (autocannon overrides tlsOptions with
// rejectUnauthorized: false), so before the load the chain each server presents is verified once with
// node:tls against the cell root, with the domain as SNI, and both must present the same certificate.
// BENCH_HTTPS_TOGGLES=1 adds variants of the cell config each without one feature (the headers, the
// log's filter encoder), run in the same rounds (GET / only): the side experiment of what costs what;
// and the front door as it was before (with its access log). BENCH_PPROF=DIR writes a CPU profile of
// the reference and of the cell under load (bench/https/pprof-compare.ts reads them).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { request } from 'node:https';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { completeSetup, makeKit } from '../../src/api/test-kit.ts';
import { FrontDoorTls } from '../../src/core/front-door/front-door-tls.ts';
import { caddyTlsFiles } from '../../src/drivers/caddy/caddy-tls-files.ts';
import { CADDY_ADMIN_HOST, CADDY_GOGC } from '../../src/schema/runtime.ts';
import { cpuMs, median } from '../dns/measure.ts';
import { requireTools } from '../tools.ts';
import { bareConfig, cellConfig, VARIANTS } from './configs.ts';
import { h2load } from './h2load.ts';
import { benchUi } from './ui.ts';

interface CannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Cannon = (opts: {
  url: string;
  connections: number;
  duration: number;
  headers?: Record<string, string>;
  servername?: string;
}) => Promise<CannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TOGGLES = process.env.BENCH_HTTPS_TOGGLES === '1';
/** A directory: after the rounds, 10 s CPU profiles of the reference and the cell (pprof-compare.ts). */
const PPROF = process.env.BENCH_PPROF;
/** cell-caddy's GOGC as its container runs it (CADDY_GOGC); BENCH_CADDY_GOGC tries another value. */
const CELL_GOGC = process.env.BENCH_CADDY_GOGC ?? String(CADDY_GOGC);
const CONNECTIONS = 50;
const BROWSER = 'gzip, deflate, br, zstd';
/** h2load (default: C, one thread, HTTP/1.1 and HTTP/2) or autocannon (Node, HTTP/1.1 only; as before). */
const LOADGEN = process.env.BENCH_LOADGEN === 'autocannon' ? 'autocannon' : 'h2load';

type Protocol = 'h1' | 'h2';
interface Request {
  label: string;
  path: string;
  enc?: string;
  protocol: Protocol;
}
const PROTOCOL_NAME: Record<Protocol, string> = { h1: 'HTTP/1.1', h2: 'HTTP/2' };

requireTools(
  'bench:https',
  ['caddy', ...(LOADGEN === 'h2load' ? ['h2load'] : [])],
  'caddy and nghttp2-client',
);

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

interface Server {
  name: string;
  port: number;
  /** The admin API's unix socket: Go's memory statistics (/debug/vars). */
  socket: string;
  child?: ChildProcess;
  /** Loaded with every request; the other variants with GET / only. */
  all?: boolean;
  /** GOGC for this Caddy; absent: Go's default (100), as a person's own Caddy runs. */
  gogc?: string;
}

interface Fetched {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One GET verified against the cell root, as a device that trusts it. */
function get(port: number, domain: string, root: string, path: string, enc?: string): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        servername: domain,
        ca: root,
        headers: { host: domain, ...(enc ? { 'accept-encoding': enc } : {}) },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The fingerprint of the certificate a server presents for `domain`, its chain verified against root. */
const verifiedFingerprint = (port: number, domain: string, root: string) =>
  new Promise<string>((resolve, reject) => {
    const s = connect(
      { host: '127.0.0.1', port, servername: domain, ca: root, rejectUnauthorized: true },
      () => {
        const fp = s.getPeerCertificate().fingerprint256;
        s.end();
        resolve(fp);
      },
    );
    s.on('error', reject);
  });

/** Peak resident memory (VmHWM) of a running process, in MiB. */
const peakRssMiB = (pid: number | undefined) => {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
};

async function startCaddy(dir: string, s: Server, text: string, domain: string, root: string): Promise<void> {
  const file = join(dir, `${s.port}.json`);
  writeFileSync(file, text);
  const log = openSync(join(dir, `${s.port}.log`), 'a');
  // Logs (the cell's access lines included) go to a file, as docker's log driver takes them away.
  s.child = spawn('caddy', ['run', '--config', file], {
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      XDG_DATA_HOME: dir,
      XDG_CONFIG_HOME: dir,
      ...(s.gogc ? { GOGC: s.gogc } : {}),
    },
    stdio: ['ignore', 'ignore', log],
  });
  closeSync(log);
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (s.child.exitCode !== null)
      throw new Error(`${s.name}: caddy exited\n${readFileSync(join(dir, `${s.port}.log`), 'utf8')}`);
    const ok = await get(s.port, domain, root, '/').then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${s.name}: caddy did not answer on ${s.port}`);
    await new Promise((r) => setTimeout(r, 50)); // polling a condition (an answer over HTTPS)
  }
}

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  cpuUs: number;
  /** Heap allocations and bytes allocated per request: exact counts, whatever the machine's load. */
  allocs: number;
  allocBytes: number;
}

interface MemStats {
  Mallocs: number;
  TotalAlloc: number;
}

/** Go's memory statistics of a Caddy, from its admin API's expvar page (over its unix socket). */
/** One GET of a Caddy's admin API over its unix socket. */
const adminGet = (socket: string, path: string) =>
  new Promise<Buffer>((resolve, reject) => {
    httpGet({ socketPath: socket, path, headers: { host: CADDY_ADMIN_HOST } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
    }).on('error', reject);
  });

const memStats = async (socket: string) =>
  (JSON.parse((await adminGet(socket, '/debug/vars')).toString('utf8')) as { memstats: MemStats }).memstats;

/** Caddy's own CPU profile over 10 s of GET / load, and how many requests the load made meanwhile. */
async function profile(s: Server, domain: string, dir: string): Promise<void> {
  const prof = adminGet(s.socket, '/debug/pprof/profile?seconds=10');
  const r = await generate(s, domain, { label: 'GET /', path: '/', protocol: 'h1' }, CONNECTIONS, 10);
  const name = s.name.replace(/[^a-z0-9]+/gi, '-');
  writeFileSync(join(dir, `${name}.cpu.pb.gz`), await prof);
  writeFileSync(join(dir, `${name}.requests`), String(r.total));
}

interface Generated {
  rps: number;
  total: number;
  p50: number;
  p99: number;
  failed: number;
}

/** One run of the load generator against one server: `connections` keep-alive connections. */
async function generate(
  s: Server,
  domain: string,
  q: Request,
  connections: number,
  seconds: number,
): Promise<Generated> {
  const headers: Record<string, string> = q.enc ? { 'accept-encoding': q.enc } : {};
  if (LOADGEN === 'h2load')
    return h2load({
      port: s.port,
      domain,
      path: q.path,
      connections,
      seconds,
      protocol: q.protocol,
      headers,
      dir,
    });
  if (q.protocol !== 'h1') throw new Error('autocannon speaks HTTP/1.1 only');
  const r = await autocannon({
    url: `https://127.0.0.1:${s.port}${q.path}`,
    servername: domain,
    connections,
    duration: seconds,
    headers: { host: domain, ...headers },
  });
  return {
    rps: r.requests.average,
    total: r.requests.total,
    p50: r.latency.p50,
    p99: r.latency.p99,
    failed: r.non2xx + r.errors + r.timeouts,
  };
}

async function load(s: Server, domain: string, q: Request, connections = CONNECTIONS): Promise<Measured> {
  const pid = s.child!.pid!;
  const mem0 = await memStats(s.socket);
  const cpu0 = cpuMs(pid);
  const r = await generate(s, domain, q, connections, SECONDS);
  const cpuUs = ((cpuMs(pid) - cpu0) * 1000) / r.total;
  const mem1 = await memStats(s.socket);
  const allocs = (mem1.Mallocs - mem0.Mallocs) / r.total;
  const allocBytes = (mem1.TotalAlloc - mem0.TotalAlloc) / r.total;
  if (r.failed > 0) throw new Error(`${s.name} ${q.label}: ${r.failed} failed requests`);
  return { rps: r.rps, p50: r.p50, p99: r.p99, cpuUs, allocs, allocBytes };
}

const dir = mkdtempSync(join(tmpdir(), 'pic-bench-https-'));
const servers: Server[] = [];
const load0 = loadavg();
try {
  // The cell CA's certificate for the cell's names, delivered as cell-api delivers it.
  const kit = await makeKit({}, { background: false }, join(dir, 'cell'));
  await completeSetup(kit, { cell_name: 'bench' });
  const domain = kit.cell.deps.config.get().identity.domain;
  const root = await kit.cell.deps.vault.rootPem();
  const tlsDir = join(dir, 'tls');
  const tls = new FrontDoorTls({
    certificateFor: (identity) => kit.cell.deps.tls.certificateFor(identity),
    files: caddyTlsFiles(tlsDir, { gid: process.getgid?.() ?? 0, rootOwner: process.getuid?.() ?? 0 }),
  });
  if ((await tls.ensure(kit.cell.deps.config.get())) !== 'delivered') throw new Error('no certificate');
  await kit.close();

  const ui = benchUi(dir);
  const paths = (name: string) => ({ domain, tlsDir, www: ui.root, adminSocket: join(dir, `${name}.sock`) });
  const ports = async () => ({
    http: await freePort(),
    https: await freePort(),
    lan: await freePort(),
    api: await freePort(), // nothing listens: GET / and the script never reach the API
  });
  const cellPorts = await ports();
  const cellText = cellConfig(paths('cell'), cellPorts);
  const barePort = await freePort();
  const bareGcPort = await freePort();
  const configs: Array<{
    name: string;
    port: number;
    text: string;
    socket: string;
    all?: boolean;
    gogc?: string;
  }> = [
    {
      name: 'bare file_server',
      port: barePort,
      text: bareConfig(paths('bare'), barePort),
      socket: paths('bare').adminSocket,
      all: true,
    },
    {
      name: 'cell-caddy',
      port: cellPorts.https,
      text: cellText,
      socket: paths('cell').adminSocket,
      all: true,
      gogc: CELL_GOGC,
    },
    {
      // Not the goal's reference (a person's Caddy runs with Go's default): the same GC setting on
      // both sides, to show what the front door's routes, headers and log cost apart from it.
      name: `bare file_server, GOGC=${CELL_GOGC} as the cell`,
      port: bareGcPort,
      text: bareConfig(paths('baregc'), bareGcPort),
      socket: paths('baregc').adminSocket,
      gogc: CELL_GOGC,
    },
  ];
  if (TOGGLES)
    for (const [i, v] of VARIANTS.entries()) {
      const p = await ports();
      configs.push({
        name: v.name,
        port: p.https,
        text: v.config(cellConfig(paths(`v${i}`), p)),
        socket: paths(`v${i}`).adminSocket,
        all: v.all,
        gogc: CELL_GOGC,
      });
    }
  for (const c of configs) {
    const s: Server = { name: c.name, port: c.port, socket: c.socket, all: c.all, gogc: c.gogc };
    servers.push(s);
    await startCaddy(dir, s, c.text, domain, root);
  }

  // Once, before the load: each chain verifies against the root for the domain, both present the
  // same certificate, and serve the same index.html; the cell's answer carries its headers.
  const fps = await Promise.all(servers.map((s) => verifiedFingerprint(s.port, domain, root)));
  if (new Set(fps).size !== 1)
    throw new Error(`the servers present different certificates: ${fps.join(' ')}`);
  const index = readFileSync(join(ui.root, 'index.html'));
  for (const s of servers) {
    const r = await get(s.port, domain, root, '/');
    if (!r.body.equals(index)) throw new Error(`${s.name}: GET / is not index.html`);
  }
  // The order of `configs`: the reference, the cell, the reference at the cell's GOGC, then the toggles.
  const [bare, cell, bareGc] = servers as [Server, Server, Server];
  const cellHead = (await get(cell.port, domain, root, '/', BROWSER)).headers;
  if (!cellHead['strict-transport-security'] || !cellHead['content-security-policy'])
    throw new Error('cell-caddy: GET / lacks HSTS or the security headers');

  // The goal's row first: GET / over HTTP/1.1 without Accept-Encoding (as every earlier run measured
  // it); then what a browser does: HTTP/2, with its Accept-Encoding, index.html and the main script.
  const browserProtocol: Protocol = LOADGEN === 'h2load' ? 'h2' : 'h1';
  const requests: Request[] = [
    { label: 'GET / (index.html)', path: '/', protocol: 'h1' },
    ...(LOADGEN === 'h2load' ? [{ label: 'GET / (index.html)', path: '/', protocol: 'h2' as const }] : []),
    { label: `GET / (Accept-Encoding: ${BROWSER})`, path: '/', enc: BROWSER, protocol: browserProtocol },
    { label: `GET ${ui.script} (same)`, path: ui.script, enc: BROWSER, protocol: browserProtocol },
  ];
  const sizes = await Promise.all(
    requests.map(async (q) => {
      const out: string[] = [];
      for (const s of [bare, cell]) {
        const r = await get(s.port, domain, root, q.path, q.enc);
        out.push(
          `${(r.body.length / 1024).toFixed(1)} kB${r.headers['content-encoding'] ? ` ${r.headers['content-encoding']}` : ''}`,
        );
      }
      return out;
    }),
  );

  for (const s of servers) await load(s, domain, requests[0]!).catch(() => undefined); // warm-up, not measured

  // Interleaved rounds: every server and request once per round, so background load hits all alike.
  const results = new Map<string, Measured[]>();
  const key = (s: Server, q: number) => `${s.name}|${q}`;
  // The order of the servers alternates from round to round, so none always runs first.
  for (let round = 0; round < ROUNDS; round++)
    for (const [qi, q] of requests.entries())
      for (const s of round % 2 ? [...servers].reverse() : servers) {
        if (qi > 0 && !s.all) continue; // the feature toggles: GET / only
        const m = await load(s, domain, q);
        results.set(key(s, qi), [...(results.get(key(s, qi)) ?? []), m]);
      }
  const mid = (xs: Measured[]) => {
    const r = median(xs.map((x) => x.rps));
    return xs.find((x) => x.rps === r)!;
  };

  const cpu = cpus();
  const load1 = loadavg();
  console.log(
    `\nmachine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, Linux ${release()}, Node ${process.version}`,
  );
  console.log(
    `load average (1/5/15 min) before ${load0.map((x) => x.toFixed(2)).join(' ')}, after ${load1.map((x) => x.toFixed(2)).join(' ')}`,
  );
  const version = spawnSync('caddy', ['version'], { encoding: 'utf8' }).stdout.trim().split(' ')[0];
  console.log(`caddy ${version}; UI: ${ui.label}; domain ${domain}, certificate from the cell CA`);
  console.log(`GOGC: cell-caddy and its variants ${CELL_GOGC} (CADDY_GOGC), the reference Go's default`);
  console.log(
    `${LOADGEN === 'h2load' ? 'h2load (one thread, one request at a time per connection)' : 'autocannon'}: ${CONNECTIONS} keep-alive connections over TLS, ${SECONDS} s per server and request, ${ROUNDS} interleaved rounds (median)\n`,
  );
  console.log(
    '| request | protocol | server | req/s | p50 ms | p99 ms | CPU µs/req | allocs/req | kB alloc/req | body | cell ÷ bare (per round) |',
  );
  console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---|---|');
  for (const [qi, q] of requests.entries()) {
    const ref = mid(results.get(key(bare, qi))!);
    for (const s of servers) {
      const runs = results.get(key(s, qi));
      if (!runs) continue;
      const m = mid(runs);
      const per = runs.map((r, i) => (r.rps / results.get(key(bare, qi))![i]!.rps).toFixed(2)).join(', ');
      const ratio = s === bare ? '' : `${(m.rps / ref.rps).toFixed(2)} (${per})`;
      const body = s === bare ? sizes[qi]![0] : s === cell ? sizes[qi]![1] : '';
      console.log(
        `| ${q.label} | ${PROTOCOL_NAME[q.protocol]} | ${s.name} | ${m.rps.toFixed(0)} | ${m.p50} | ${m.p99} | ${m.cpuUs.toFixed(0)} | ${m.allocs.toFixed(0)} | ${(m.allocBytes / 1024).toFixed(1)} | ${body} | ${ratio} |`,
      );
    }
  }
  const [c0, b0] = [mid(results.get(key(cell, 0))!), mid(results.get(key(bare, 0))!)];
  console.log(
    `\nGET / over HTTP/1.1, cell-caddy ÷ bare file_server: ${(c0.rps / b0.rps).toFixed(2)} req/s (goal ≥ 0.90)`,
  );
  if (requests[1]?.protocol === 'h2') {
    const [c1, b1] = [mid(results.get(key(cell, 1))!), mid(results.get(key(bare, 1))!)];
    console.log(`GET / over HTTP/2, cell-caddy ÷ bare file_server: ${(c1.rps / b1.rps).toFixed(2)} req/s`);
  }
  const g0 = mid(results.get(key(bareGc, 0))!);
  console.log(
    `GET / cell-caddy ÷ ${bareGc.name}: ${(c0.rps / g0.rps).toFixed(2)} req/s, CPU ${g0.cpuUs.toFixed(0)} ÷ ${c0.cpuUs.toFixed(0)} µs/req`,
  );
  // On a busy machine req/s follows the load generator and the other jobs; the CPU each Caddy spends
  // per request says how many requests/s each would serve on the same free cores.
  console.log(
    `bare ÷ cell CPU µs/req (capacity on equal CPU): ${(b0.cpuUs / c0.cpuUs).toFixed(2)} (${b0.cpuUs.toFixed(0)} ÷ ${c0.cpuUs.toFixed(0)})`,
  );
  // Paired rounds: both Caddys loaded at the same time (half the connections each, one load generator),
  // so every background job hits both alike. Not the capacity ratio (the load generator shares the
  // cores, so latency weighs in too), but the figure that stays comparable from run to run when the
  // machine is shared (the interleaved rounds swing with it).
  const paired: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const [b, c] = await Promise.all([bare, cell].map((s) => load(s, domain, requests[0]!, CONNECTIONS / 2)));
    paired.push(c!.rps / b!.rps);
  }
  console.log(
    `paired (both loaded at once, ${CONNECTIONS / 2} connections each, GET /): cell ÷ bare ${median(paired).toFixed(2)} req/s (${paired.map((x) => x.toFixed(2)).join(', ')})`,
  );
  if (PPROF) {
    mkdirSync(PPROF, { recursive: true });
    for (const s of [bare, cell]) await profile(s, domain, PPROF);
    console.log(
      `CPU profiles in ${PPROF}: node bench/https/pprof-compare.ts ${PPROF}/bare-file-server ${PPROF}/cell-caddy`,
    );
  }
  // The footprint side of the GC setting: each Caddy's peak resident memory over the whole run.
  console.log(
    `peak RSS (VmHWM) over the run: ${servers.map((s) => `${s.name} ${peakRssMiB(s.child?.pid).toFixed(1)} MiB`).join('; ')}`,
  );
} finally {
  for (const s of servers) s.child?.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  for (const s of servers) if (s.child && s.child.exitCode === null) s.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
