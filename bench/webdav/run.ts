// WebDAV throughput from a device over WireGuard (issue 12, part 9: goal ≥ 0.8× plain HTTP). A real
// cell (`pic up`, the e2e harness) with `files` installed from the store, a peer granted it with an
// account, and the peer's device container (the e2e test's: wireguard-go, the exported config
// unchanged, the cell's root downloaded through the tunnel). Each round uploads a 200 MB random file
// with `curl -T` to https://files.<domain>/ and downloads it back (`-o /dev/null`): PIC's path is
// WireGuard (userspace on both ends) → the service's virtual IP (DNAT) → Caddy (TLS) → nginx.
// Reference, in the same round and in alternating order: the same curl, the same file, from a
// container sharing the device's network namespace (its own link, not the tunnel: no WireGuard, no
// TLS) to the same `files` image run bare (same nginx config, same limits, an account made by its own
// add hook) published on the host's address: plain HTTP through Docker's port mapping. The device's
// link is a veth routed by the host, the way a device on the LAN reaches the host's address: Docker's
// DNAT in the kernel. (From a Docker bridge the engine's `-i <bridge> -j RETURN` rules send published
// ports through docker-proxy instead, a userspace relay no real device goes through, which moved the
// WireGuard UDP one datagram per syscall.) curl's own timings (inside the container) make the figures;
// CPU seconds are the containers' cgroup counters (cgroup v1 or v2), the kernel's own networking not
// included.
// Run: flock /tmp/pic-docker.lock npm run bench:webdav (the lock every Docker-heavy test takes; a few
// minutes). BENCH_ROUNDS (3), BENCH_MB (200), BENCH_NO_BUILD=1 (use the images as they are),
// BENCH_HTTP1=1 (curl --http1.1 on the PIC side too, instead of HTTP/2 negotiated with Caddy).
// Nothing leaves this machine: the cell publishes on the host's own address, the devices are local.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { addPeer, DOMAIN, exec, PEER_IMAGE, startDevice, waitJob } from '../../test/e2e/devices.ts';
import {
  ApiClient,
  completeSetup,
  docker,
  ensureImages,
  freePort,
  hostRouteAddress,
  leftovers,
  ROOT,
  startCell,
  type TestCell,
  tryDocker,
} from '../../test/e2e/harness.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BYTES = Number(process.env.BENCH_MB ?? 200) * 1e6;
const HTTP1 = !!process.env.BENCH_HTTP1;
const prefix = `pic-bwd${randomBytes(3).toString('hex')}-`;
const PEER = 'bench';

// Everything this run makes, removed in `cleanup` whatever happens.
let cell: TestCell | undefined;
const containers: string[] = [];
const links: string[] = [];
const dirs: string[] = [];

let cleaned = false;
function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  for (const c of [...containers].reverse()) tryDocker(['rm', '-f', '-v', c]);
  for (const l of links) spawnSync('ip', ['link', 'del', l]);
  try {
    if (cell) {
      cell.destroy();
      const left = leftovers(cell.prefix);
      if (left.length) console.error(`left behind: ${left.join(', ')}`);
    }
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    console.error(`\n${sig}: cleaning up`);
    cleanup();
    process.exit(130);
  });

const tempDir = (what: string) => {
  const d = mkdtempSync(join(tmpdir(), `${prefix}${what}-`));
  dirs.push(d);
  return d;
};

/** A command that must succeed (argv only). */
function must(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error}`);
}

/**
 * Gives a container started with `--network none` a link to the host as a LAN device has: a veth
 * pair, a /30 of 198.18.0.0/15 (the benchmarking range), the host as its default gateway. The host
 * routes it like any interface, so a published port is reached through Docker's DNAT in the kernel.
 */
function lanLink(container: string): void {
  const pid = docker(['inspect', '-f', '{{.State.Pid}}', container]).trim();
  const tag = randomBytes(3).toString('hex');
  const [host, dev] = [`pbwd${tag}h`, `pbwd${tag}d`];
  const net = `198.${18 + (randomBytes(1)[0]! & 1)}.${randomBytes(1)[0]}.${randomBytes(1)[0]! & 0xfc}`;
  const [a, b, c, d] = net.split('.').map(Number) as [number, number, number, number];
  const gw = `${a}.${b}.${c}.${d + 1}`;
  const ip = `${a}.${b}.${c}.${d + 2}`;
  must('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', dev]);
  links.push(host);
  must('ip', ['link', 'set', dev, 'netns', pid]);
  must('ip', ['address', 'add', `${gw}/30`, 'dev', host]);
  must('ip', ['link', 'set', host, 'up']);
  const inNs = (args: string[]) => must('nsenter', ['-t', pid, '-n', 'ip', ...args]);
  inNs(['link', 'set', dev, 'name', 'eth0']);
  inNs(['address', 'add', `${ip}/30`, 'dev', 'eth0']);
  inNs(['link', 'set', 'eth0', 'up']);
  inNs(['route', 'add', 'default', 'via', gw]);
}

/** `count` random bytes in a file, written once (both sides read the same file from a bind mount). */
function randomFile(path: string, count: number): void {
  const fd = openSync(path, 'w', 0o644);
  try {
    const chunk = 4 * 1024 * 1024;
    for (let left = count; left > 0; left -= chunk) writeSync(fd, randomBytes(Math.min(chunk, left)));
  } finally {
    closeSync(fd);
  }
}

const hostPids = new Map<string, string>();
/**
 * CPU time in ns: of a container from its cgroup (v1 cpuacct or v2 cpu.stat), or of one process in it
 * (`<container>/<command>`: its utime + stime, at the kernel's 100 ticks per second); undefined if
 * not found.
 */
function cpuNs(entry: string): number | undefined {
  const [container, command] = entry.split('/') as [string, string | undefined];
  if (command) {
    let pid = hostPids.get(entry);
    if (!pid) {
      const top = docker(['top', container, '-eo', 'pid,comm']).split('\n').slice(1);
      pid = top.map((l) => l.trim().split(/\s+/)).find((f) => f[1] === command)?.[0];
      if (!pid) return undefined;
      hostPids.set(entry, pid);
    }
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 1e7;
  }
  const id = docker(['inspect', '-f', '{{.Id}}', container]).trim();
  const v1 = [
    `/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`,
    `/sys/fs/cgroup/cpu,cpuacct/docker/${id}/cpuacct.usage`,
  ];
  for (const p of v1) if (existsSync(p)) return Number(readFileSync(p, 'utf8'));
  const v2 = [
    `/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`,
    `/sys/fs/cgroup/docker/${id}/cpu.stat`,
  ];
  for (const p of v2)
    if (existsSync(p)) return Number(/usage_usec (\d+)/.exec(readFileSync(p, 'utf8'))?.[1]) * 1000;
  return undefined;
}

interface Transfer {
  seconds: number;
  mbps: number;
  cpu: Record<string, number>;
  http: string;
}

/**
 * One curl in `client`; fails unless the status is `okCodes` and every byte moved. CPU seconds of
 * `involved` containers over the transfer.
 */
function transfer(client: string, args: string[], okCodes: number[], involved: string[]): Transfer {
  const before = involved.map(cpuNs);
  const r = exec(
    client,
    [
      'curl',
      '-sS',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code} %{time_total} %{size_upload} %{size_download} %{http_version}',
      ...args,
    ],
    15 * 60_000,
  );
  const after = involved.map(cpuNs);
  const [code, time, up, down, http] = r.stdout.trim().split(' ');
  if (r.status !== 0 || !okCodes.includes(Number(code)))
    throw new Error(`curl ${args.join(' ')} in ${client}: exit ${r.status}, HTTP ${code}: ${r.stderr}`);
  const moved = Math.max(Number(up), Number(down));
  if (moved !== BYTES) throw new Error(`curl moved ${moved} bytes, not ${BYTES}: ${r.stdout}`);
  const cpu: Record<string, number> = {};
  involved.forEach((c, i) => {
    const a = after[i];
    const b = before[i];
    if (a !== undefined && b !== undefined) cpu[c] = (a - b) / 1e9;
  });
  const seconds = Number(time);
  return { seconds, mbps: BYTES / 1e6 / seconds, cpu, http: http ?? '?' };
}

interface Side {
  up: Transfer;
  down: Transfer;
}

/** Upload then download of the file under `name`, then a DELETE (not timed) so the disk doesn't fill. */
function roundTrip(client: string, base: string, extra: string[], name: string, involved: string[]): Side {
  const url = `${base}/${name}`;
  const up = transfer(client, [...extra, '-T', '/bench/blob', url], [201, 204], involved);
  const down = transfer(client, [...extra, url], [200], involved);
  const del = exec(client, [
    'curl',
    '-sS',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '-X',
    'DELETE',
    ...extra,
    url,
  ]);
  if (del.stdout !== '204') throw new Error(`DELETE ${url}: ${del.stdout} ${del.stderr}`);
  return { up, down };
}

/** The installed `files` container, run bare beside the cell: same image, user, capabilities, limits. */
function bareFiles(installed: string, hostAddress: string, port: number): string {
  const info = JSON.parse(docker(['inspect', installed]))[0];
  const hc = info.HostConfig;
  const name = `${prefix}bare-files`;
  const data = tempDir('bare-data');
  containers.push(name);
  docker([
    'run',
    '-d',
    '--name',
    name,
    '--cap-drop',
    'ALL',
    ...(hc.CapAdd ?? []).flatMap((c: string) => ['--cap-add', c]),
    ...(info.Config.User ? ['--user', info.Config.User] : []),
    ...(hc.ReadonlyRootfs ? ['--read-only'] : []),
    ...Object.entries((hc.Tmpfs ?? {}) as Record<string, string>).flatMap(([p, o]) => [
      '--tmpfs',
      o ? `${p}:${o}` : p,
    ]),
    ...(hc.Memory ? ['--memory', String(hc.Memory)] : []),
    ...(hc.NanoCpus ? ['--cpus', String(hc.NanoCpus / 1e9)] : []),
    ...(hc.PidsLimit ? ['--pids-limit', String(hc.PidsLimit)] : []),
    ...(hc.SecurityOpt ?? []).flatMap((o: string) => ['--security-opt', o]),
    '-v',
    `${data}:/srv/files`,
    '-p',
    `${hostAddress}:${port}:80`,
    info.Image,
  ]);
  const deadline = Date.now() + 60_000;
  while (exec(name, ['/usr/local/bin/pic-files-healthcheck']).status !== 0) {
    if (Date.now() > deadline) throw new Error(`${name} never became healthy`);
    spawnSync('sleep', ['0.2']);
  }
  return name;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** The containers' CPU seconds added up (a process inside one, `<container>/<command>`, is not added again). */
const sum = (o: Record<string, number>) =>
  Object.entries(o).reduce((a, [k, v]) => (k.includes('/') ? a : a + v), 0);

try {
  if (!process.env.BENCH_NO_BUILD) ensureImages();
  process.env.DOCKER_BUILDKIT = '0';
  docker(['build', '-q', '-t', PEER_IMAGE, join(ROOT, 'test', 'e2e', 'peer')]);
  const hostAddress = hostRouteAddress();
  const dataDir = tempDir('data');
  const confDir = tempDir('conf');
  randomFile(join(dataDir, 'blob'), BYTES);

  console.log(
    `load average at the start ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  cell = await startCell({ bindAddress: hostAddress });
  const admin = new ApiClient(cell.url);
  await completeSetup(cell, admin);
  await waitJob(admin, 'files', 'install');
  await addPeer(admin, PEER, ['dns', 'web']);
  const grant = await admin.call('PUT', `/api/peers/${PEER}`, { services: ['dns', 'web', 'files'] });
  if (grant.status !== 200) throw new Error(`grant: ${grant.status} ${JSON.stringify(grant.json)}`);
  const account = await admin.call('POST', '/api/services/files/accounts', { username: PEER });
  if (account.status !== 201) throw new Error(`account: ${account.status} ${JSON.stringify(account.json)}`);
  const { password } = account.json as { password: string };

  const device = `${cell.prefix}device-${PEER}`;
  containers.push(device);
  await startDevice(cell, admin, PEER, {
    network: 'none',
    onStarted: lanLink,
    confDir,
    runArgs: ['-v', `${dataDir}:/bench:ro`],
  });
  const wgGoVersion = (c: string) =>
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format, not a template
    exec(c, ['dpkg-query', '-W', '-f', '${Version}', 'wireguard-go']).stdout.trim() || '?';
  const wgImpl =
    exec(cell.name('wireguard'), ['pgrep', '-x', 'wireguard-go']).status === 0
      ? `wireguard-go ${wgGoVersion(cell.name('wireguard'))} (device: ${wgGoVersion(device)})`
      : `kernel WireGuard (device: wireguard-go ${wgGoVersion(device)})`;

  // The reference: the same image run bare, on the host's address, and a client on the device's link.
  const installed = `${cell.prefix}cell-files_nginx`;
  const port = await freePort();
  const bare = bareFiles(installed, hostAddress, port);
  const refPassword = randomBytes(12).toString('hex');
  const add = spawnSync('docker', ['exec', '-i', bare, '/usr/local/bin/pic-files-account', 'add', PEER], {
    input: `${refPassword}\n`,
    encoding: 'utf8',
  });
  if (add.status !== 0) throw new Error(`account in ${bare}: ${add.stderr}`);
  const client = `${prefix}client`;
  containers.push(client);
  docker([
    'run',
    '-d',
    '--name',
    client,
    '--network',
    `container:${device}`,
    '-v',
    `${dataDir}:/bench:ro`,
    '--entrypoint',
    'sleep',
    PEER_IMAGE,
    'infinity',
  ]);

  const pic = {
    base: `https://files.${DOMAIN}`,
    extra: ['--cacert', '/tmp/root.pem', '-u', `${PEER}:${password}`, ...(HTTP1 ? ['--http1.1'] : [])],
    involved: [
      device,
      `${device}/wireguard-go`,
      cell.name('wireguard'),
      ...(wgImpl.startsWith('wireguard-go') ? [`${cell.name('wireguard')}/wireguard-go`] : []),
      cell.name('caddy'),
      installed,
    ],
  };
  const ref = {
    base: `http://${hostAddress}:${port}`,
    extra: ['-u', `${PEER}:${refPassword}`],
    involved: [client, bare],
  };
  const picRun = (r: number) => roundTrip(device, pic.base, pic.extra, `round-${r}.bin`, pic.involved);
  const refRun = (r: number) => roundTrip(client, ref.base, ref.extra, `round-${r}.bin`, ref.involved);
  // One untimed round trip each: DNS, the TLS session, the first write of the volume.
  picRun(-1);
  refRun(-1);

  console.log(
    `${ROUNDS} rounds of ${BYTES / 1e6} MB up and down; PIC: curl in the device over ${wgImpl} → Caddy TLS → nginx; ` +
      `reference: curl on the device's link (not the tunnel) → ${hostAddress}:${port} (plain HTTP, Docker's DNAT) → the same nginx image bare; ` +
      `the device reaches the host over a routed veth, as from the LAN (no docker-proxy)`,
  );
  const results: { pic: Side; ref: Side }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const load = loadavg()[0]!;
    let p: Side;
    let f: Side;
    if (r % 2 === 0) {
      p = picRun(r);
      f = refRun(r);
    } else {
      f = refRun(r);
      p = picRun(r);
    }
    results.push({ pic: p, ref: f });
    console.log(
      `round ${r + 1} (${r % 2 === 0 ? 'PIC first' : 'reference first'}, load ${load.toFixed(1)}): ` +
        `up ${p.up.mbps.toFixed(1)} vs ${f.up.mbps.toFixed(1)} MB/s (${(p.up.mbps / f.up.mbps).toFixed(2)}), ` +
        `down ${p.down.mbps.toFixed(1)} vs ${f.down.mbps.toFixed(1)} MB/s (${(p.down.mbps / f.down.mbps).toFixed(2)}); ` +
        `HTTP ${p.up.http}/${f.up.http}`,
    );
  }

  console.log(
    '\n| direction | PIC MB/s | reference MB/s | PIC ÷ reference (rounds; goal ≥ 0.8) | CPU s PIC | CPU s reference |',
  );
  console.log('|---|---:|---:|---|---:|---:|');
  for (const dir of ['up', 'down'] as const) {
    const ratios = results.map((x) => x.pic[dir].mbps / x.ref[dir].mbps);
    console.log(
      `| ${dir === 'up' ? 'upload (PUT)' : 'download (GET)'} | ${median(results.map((x) => x.pic[dir].mbps)).toFixed(1)} | ` +
        `${median(results.map((x) => x.ref[dir].mbps)).toFixed(1)} | **${median(ratios).toFixed(2)}** ` +
        `(${ratios.map((x) => x.toFixed(2)).join(', ')}) | ${median(results.map((x) => sum(x.pic[dir].cpu))).toFixed(2)} | ` +
        `${median(results.map((x) => sum(x.ref[dir].cpu))).toFixed(2)} |`,
    );
  }
  console.log('\nCPU seconds per container (median over rounds):');
  for (const dir of ['up', 'down'] as const)
    for (const side of ['pic', 'ref'] as const) {
      const names = Object.keys(results[0]![side][dir].cpu);
      const parts = names.map((n) => {
        const short = n.replace(cell!.prefix, '').replace(prefix, '');
        return `${short} ${median(results.map((x) => x[side][dir].cpu[n] ?? 0)).toFixed(2)}`;
      });
      console.log(
        `  ${dir.padEnd(4)} ${side === 'pic' ? 'PIC      ' : 'reference'}  ${parts.join(', ') || '(no cgroup counters)'}`,
      );
    }
  console.log(
    `load average at the end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
} finally {
  cleanup();
}
