// Mail throughput and idle memory (issue 13, part 8). Goals: messages per second accepted on
// submission and delivered into the mailbox at least 0.9× a hand-configured Postfix + Dovecot;
// idle memory of the email container ≤ 60 MB and of the webmail container ≤ 60 MB.
//
// Throughput: BENCH_MESSAGES (1,000) small messages from alice@bench.cell to bob@bench.cell, sent the
// way a phone sends them: nodemailer with a pool of BENCH_CONNECTIONS (4) connections to port 587,
// STARTTLS verified against a CA this script makes (the cell's own X.509 code: root, intermediate,
// a leaf for mail.bench.cell), AUTH as alice. (a) accepted: from the first connection until the last
// message is answered 250; (b) delivered: from the same start until all of them are files in bob's
// Maildir, counted on the host in the mail volume's folder. PIC's side is the built-in `email` image
// run as its integration test runs it (same volumes, PIC_CELL_DOMAIN, the tls files, accounts added
// through its own hook); the reference is bench/mail/reference (Postfix + Dovecot from the same Debian
// packages, the minimum configuration by hand: submission with STARTTLS + Dovecot SASL, LMTP into
// Maildir, a passwd-file; no DKIM, no quota). Both run on one bench network, the same run, rounds
// alternating which side goes first; the host connects to the containers' addresses (no published
// port). After the rounds, IMAP STATUS over 993 must count every message the host counted.
//
// Idle memory: `docker stats` of each container BENCH_SETTLE_S (20) seconds after it is up with its
// accounts (the webmail after one request for its login page), and again BENCH_SETTLE_AFTER_S (120)
// seconds after the rounds.
//
// Run: npm run bench:mail (a few minutes; builds the images the first time). BENCH_ROUNDS (3),
// BENCH_MESSAGES, BENCH_CONNECTIONS, BENCH_SETTLE_S, BENCH_SETTLE_AFTER_S, BENCH_REFERENCE_ONLY=1 (no PIC side),
// BENCH_PIC_POSTCONF / BENCH_PIC_DOVECOT / BENCH_PIC_SH (diagnosis: change PIC's running configuration, see tweak),
// BENCH_KEEP_IMAGES=1 (keep this run's image tags, named pic-bmail<hex>-*, for a quicker next run).
// BENCH_MAIL_TOGGLES=1 (or a comma-separated list of TOGGLES' names) adds, in the same rounds, more
// containers of PIC's email image each with one feature switched off at run time (no DKIM milter, no
// quota-status policy, no quota plugin, ...): what each feature costs. They are not the product.
// CPU by program: every process of each container (its cgroup's list), sampled every 250 ms during
// the runs, so daemons that exit between rounds are counted up to their last sample.
// Nothing leaves this machine: every recipient is a local mailbox, no relay or smarthost is set.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import {
  certPem,
  createIntermediate,
  createRoot,
  issueLeaf,
  type KeyAndCert,
} from '../../src/core/vault/x509.ts';
import { buildImage } from '../../src/drivers/docker/build-image.ts';
import {
  builtin,
  engine,
  runStore,
  type TlsFiles,
  writeTls,
} from '../../src/drivers/docker/store-image-kit.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 1000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 4);
const SETTLE_S = Number(process.env.BENCH_SETTLE_S ?? 20);
// Postfix's idle daemons exit after max_idle (100 s), Dovecot's after idle_kill (60 s).
const SETTLE_AFTER_S = Number(process.env.BENCH_SETTLE_AFTER_S ?? 120);
const REFERENCE_ONLY = !!process.env.BENCH_REFERENCE_ONLY;
const KEEP_IMAGES = !!process.env.BENCH_KEEP_IMAGES;

/** A run-time change to one PIC email container: Postfix settings, Dovecot lines, a script first. */
interface Tweak {
  postconf?: string[];
  dovecot?: string;
  sh?: string;
}
/**
 * The feature toggles (BENCH_MAIL_TOGGLES): each one more PIC email container, the same image with
 * one feature off, to measure what it costs. Diagnosis only: each drops something the product needs.
 */
const TOGGLES: Record<string, { what: string; tweak: Tweak }> = {
  'no-milter': {
    what: 'no OpenDKIM milter (mail goes out unsigned)',
    tweak: { postconf: ['smtpd_milters =', 'non_smtpd_milters ='] },
  },
  'no-quota-status': {
    what: 'no quota-status policy at RCPT (a full mailbox is found only at LMTP)',
    // The restriction class becomes a no-op (the recipient is already known to be fully qualified).
    tweak: { postconf: ['quota_check = reject_non_fqdn_recipient'] },
  },
  'no-quota-plugin': {
    what: 'no quota plugin in LMTP (maildirsize not kept up to date)',
    tweak: { dovecot: 'lmtp_rcpt_check_quota = no;protocol lmtp {;  mail_plugins =;}' },
  },
  'no-quota': {
    what: 'neither quota-status nor the quota plugin',
    tweak: {
      postconf: ['quota_check = reject_non_fqdn_recipient'],
      dovecot: 'lmtp_rcpt_check_quota = no;protocol lmtp {;  mail_plugins =;}',
    },
  },
  bare: {
    what: 'no milter, no quota at all',
    tweak: {
      postconf: ['smtpd_milters =', 'non_smtpd_milters =', 'quota_check = reject_non_fqdn_recipient'],
      dovecot: 'lmtp_rcpt_check_quota = no;protocol lmtp {;  mail_plugins =;}',
    },
  },
};
const TOGGLES_ENV = process.env.BENCH_MAIL_TOGGLES ?? '';
const toggles =
  TOGGLES_ENV === '1'
    ? Object.keys(TOGGLES)
    : TOGGLES_ENV.split(',')
        .map((x) => x.trim())
        .filter(Boolean);
for (const t of toggles) if (!TOGGLES[t]) throw new Error(`BENCH_MAIL_TOGGLES: no toggle ${t}`);
const DOMAIN = 'bench.cell';
const MAIL_HOST = `mail.${DOMAIN}`;
const GOAL_RATIO = 0.9;
const GOAL_MB = 60;
const HERE = fileURLToPath(new URL('.', import.meta.url));

if (!(await engine.reachable())) throw new Error('dockerd is not reachable: scripts/ensure-docker.sh');
const prefix = `pic-bmail${randomBytes(3).toString('hex')}-`;

const docker = (args: string[], input?: string) => {
  const r = spawnSync('docker', args, { encoding: 'utf8', ...(input === undefined ? {} : { input }) });
  if (r.status !== 0) throw new Error(`docker ${args.slice(0, 3).join(' ')}…: ${r.stderr}`);
  return r.stdout.trim();
};
const tryDocker = (args: string[]) => spawnSync('docker', args, { encoding: 'utf8' });

// Everything this run makes, removed in `cleanup` whatever happens (base images are kept).
const containers: string[] = [];
const images: string[] = [];
const dirs: string[] = [];
let net = '';
let cleaned = false;
function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  for (const c of containers) tryDocker(['rm', '-f', '-v', c]);
  if (net) tryDocker(['network', 'rm', net]);
  if (!KEEP_IMAGES) for (const i of images) tryDocker(['rmi', i]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const loads = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

/** Builds `context` under a tag of this run's own (removed at the end; the build cache stays). */
async function build(context: string, name: string): Promise<string> {
  const tag = `${prefix}${name}:latest`;
  const image = await buildImage(engine.docker, { context, tag });
  images.push(tag);
  return image.id;
}

/** The cell's way: a root, an intermediate, and a leaf for mail.<domain> (fullchain = leaf + intermediate). */
interface Tls {
  dir: string;
  ca: string;
  /** The same files as the store writes them into a tls volume. */
  files: Required<TlsFiles>;
}
async function makeTls(dir: string): Promise<Tls> {
  const now = new Date();
  const names = {
    organisation: 'PIC mail bench',
    root: 'PIC mail bench root',
    intermediate: 'PIC mail bench CA',
  };
  const root: KeyAndCert = await createRoot(names, now, 30);
  const inter = await createIntermediate(root, names, now, 30);
  const leaf = await issueLeaf(
    inter,
    { commonName: MAIL_HOST, names: [MAIL_HOST], days: 7, clientAuth: false },
    now,
  );
  const ca = certPem(root.cert);
  const files = { fullchain: certPem(leaf.cert) + certPem(inter.cert), privkey: leaf.privateKeyPem, ca };
  writeTls(dir, files);
  return { dir, ca, files };
}

/** One mail server under test. */
interface Side {
  label: string;
  container: string;
  ip: string;
  /** The host folder whose Maildirs hold the mailboxes (every file under a `new` or `cur` folder). */
  mailDir: string;
  /** alice's and bob's passwords. */
  passwords: Record<'alice' | 'bob', string>;
}

function ipOf(container: string): string {
  const ip = docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, container]);
  if (!ip) throw new Error(`${container} has no address on ${net}`);
  return ip;
}

/** Waits until something answers SMTP on 587 and IMAPS on 993 (a TCP connect; the banner is later). */
async function waitPorts(ip: string, ports: number[], container: string): Promise<void> {
  const { connect } = await import('node:net');
  const open = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = connect({ host: ip, port, timeout: 1000 });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
      s.once('timeout', () => {
        s.destroy();
        resolve(false);
      });
    });
  const deadline = Date.now() + 120_000;
  for (;;) {
    if ((await Promise.all(ports.map(open))).every(Boolean)) return;
    if (Date.now() > deadline)
      throw new Error(
        `${container}: ports ${ports} never opened: ${tryDocker(['logs', '--tail', '30', container]).stderr}`,
      );
    await sleep(200);
  }
}

/** The reference: Postfix + Dovecot configured by hand (bench/mail/reference). */
async function startReference(image: string, tlsDir: string): Promise<Side> {
  const name = `${prefix}reference`;
  const mailDir = tempDir('ref-vmail');
  const queueDir = tempDir('ref-spool');
  chmodSync(mailDir, 0o755);
  chmodSync(queueDir, 0o755);
  containers.push(name);
  docker([
    'run',
    '-d',
    '--name',
    name,
    '--network',
    net,
    '--hostname',
    MAIL_HOST,
    '-v',
    `${tlsDir}:/etc/mail-tls:ro`,
    '-v',
    `${mailDir}:/var/mail/vmail`,
    '-v',
    `${queueDir}:/var/spool/postfix`,
    image,
  ]);
  // The vmail folder belongs to the vmail user (uid 5000 in the reference image).
  docker(['exec', name, 'chown', 'vmail:vmail', '/var/mail/vmail']);
  const ip = ipOf(name);
  await waitPorts(ip, [587, 993], name);
  const passwords = { alice: randomBytes(12).toString('hex'), bob: randomBytes(12).toString('hex') };
  for (const [user, pw] of Object.entries(passwords))
    docker(['exec', '-i', name, '/usr/local/bin/add-user', user], `${pw}\n`);
  return { label: 'reference', container: name, ip, mailDir, passwords };
}

/**
 * PIC's `email` image, run as its integration tests run it (store-image-kit's runStore: the manifest's
 * settings, each volume a host folder): the certificate in its tls volume before the first start,
 * accounts by its hook.
 */
async function startEmail(tls: Tls, image: string, variant = '', change: Tweak = envTweak()): Promise<Side> {
  const service = await builtin('email');
  const name = `${prefix}email${variant ? `-${variant}` : ''}`;
  containers.push(name);
  const passwords = { alice: randomBytes(12).toString('hex'), bob: randomBytes(12).toString('hex') };
  const { dirs, ip } = await runStore({
    service,
    name,
    image,
    network: net,
    base: tempDir(`email${variant}`),
    env: { PIC_CELL_DOMAIN: DOMAIN },
    tls: tls.files,
    accounts: passwords,
    healthyWithinMs: 120_000,
  });
  tweak(name, change);
  const mailVol = service.c.volumes?.find((v) => v.path === '/var/mail/vmail')?.name ?? 'mail';
  await waitPorts(ip, [587, 993], name);
  const label = variant ? `PIC ${variant}` : 'PIC email';
  return { label, container: name, ip, mailDir: dirs[mailVol]!, passwords };
}

/**
 * Diagnosis only (the figures in docs/performance.md are without it): BENCH_PIC_POSTCONF holds
 * `;`-separated Postfix settings applied to PIC's running container (`postconf -P` for a
 * `service/type/param` key, `postconf -e` otherwise), BENCH_PIC_DOVECOT lines (`;`-separated) appended
 * to its Dovecot configuration, then both reloaded; BENCH_PIC_SH a script run first (`sh -s`): a way
 * to try a change to the image's configuration without rebuilding it.
 */
function envTweak(): Tweak {
  return {
    postconf: (process.env.BENCH_PIC_POSTCONF ?? '')
      .split(';')
      .map((x) => x.trim())
      .filter(Boolean),
    dovecot: process.env.BENCH_PIC_DOVECOT ?? '',
    sh: process.env.BENCH_PIC_SH ?? '',
  };
}

function tweak(container: string, t: Tweak): void {
  const postconf = t.postconf ?? [];
  const dovecot = t.dovecot ?? '';
  if (t.sh) {
    docker(['exec', '-i', container, 'sh', '-s'], t.sh);
    console.log(`${container} tweaked: sh ${t.sh}`);
  }
  for (const kv of postconf) {
    const key = kv.split('=')[0]!.trim();
    docker(['exec', container, 'postconf', key.includes('/') ? '-P' : '-e', kv]);
    console.log(`${container} tweaked: postconf ${kv}`);
  }
  if (postconf.length) docker(['exec', container, 'postfix', 'reload']);
  if (dovecot) {
    docker(
      ['exec', '-i', container, 'sh', '-c', 'cat >>/etc/dovecot/pic-local.conf'],
      `${dovecot.replaceAll(';', '\n')}\n`,
    );
    docker(['exec', container, 'doveadm', 'reload']);
    console.log(`${container} tweaked: dovecot ${dovecot}`);
  }
}

/** PIC's `webmail` image beside the email container (idle memory only). */
async function startWebmail(tls: Tls, email: string): Promise<string> {
  const service = await builtin('webmail');
  const image = await build(service.context, 'webmail');
  const name = `${prefix}webmail`;
  containers.push(name);
  const { ip } = await runStore({
    service,
    name,
    image,
    network: net,
    base: tempDir('webmail'),
    env: { PIC_CELL_DOMAIN: DOMAIN, PIC_SVC_EMAIL_MAIL: email },
    tls: { ca: tls.ca },
    healthyWithinMs: 120_000,
  });
  // One request for the login page, as a browser's first visit: php-fpm has a worker up.
  const port = service.manifest.http_routes?.[0]?.port ?? 8080;
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.get(
      { host: ip, port, path: '/', headers: { host: MAIL_HOST }, timeout: 30_000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error('webmail login page: no answer in 30 s')));
    req.on('error', reject);
  });
  if (status !== 200) throw new Error(`webmail login page: HTTP ${status}`);
  return name;
}

/** Files in every `new` and `cur` folder under `dir` (delivered messages). */
function delivered(dir: string): number {
  let n = 0;
  const walk = (d: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = join(d, e.name);
      if (e.name === 'new' || e.name === 'cur') n += readdirSync(p).length;
      else if (e.name !== 'tmp') walk(p);
    }
  };
  walk(dir);
  return n;
}

/** A container's CPU time in ns from its cgroup (v1 cpuacct or v2 cpu.stat); undefined if not found. */
function cpuNs(container: string): number | undefined {
  const id = docker(['inspect', '-f', '{{.Id}}', container]);
  for (const p of [
    `/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`,
    `/sys/fs/cgroup/cpu,cpuacct/docker/${id}/cpuacct.usage`,
  ])
    if (existsSync(p)) return Number(readFileSync(p, 'utf8'));
  for (const p of [
    `/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`,
    `/sys/fs/cgroup/docker/${id}/cpu.stat`,
  ])
    if (existsSync(p)) return Number(/usage_usec (\d+)/.exec(readFileSync(p, 'utf8'))?.[1]) * 1000;
  return undefined;
}

/** The host pids of a container's processes, from its cgroup (v1 cpuacct, or v2). */
function cgroupProcs(id: string): string[] {
  for (const p of [
    `/sys/fs/cgroup/cpuacct/docker/${id}/cgroup.procs`,
    `/sys/fs/cgroup/cpu,cpuacct/docker/${id}/cgroup.procs`,
    `/sys/fs/cgroup/system.slice/docker-${id}.scope/cgroup.procs`,
    `/sys/fs/cgroup/docker/${id}/cgroup.procs`,
  ])
    if (existsSync(p)) return readFileSync(p, 'utf8').split('\n').filter(Boolean);
  return [];
}

/**
 * CPU seconds by program inside one container: every process of its cgroup, sampled while `on`.
 * A process is keyed by pid and start time; its CPU over the sampled windows is counted up to its last
 * sample (a process that exits loses at most one interval). Programs are named by argv[0]'s last part,
 * Dovecot's by their process title (`dovecot/lmtp`), so Postfix's lmtp client and Dovecot's lmtp
 * server stay apart.
 */
class CpuSampler {
  readonly id: string;
  /** key → [program, CPU s at the window's start (or 0 if born in it), CPU s at the last sample]. */
  private procs = new Map<string, [string, number, number]>();
  private done: Record<string, number> = {};
  constructor(container: string) {
    this.id = docker(['inspect', '-f', '{{.Id}}', container]);
  }
  private read(first: boolean): void {
    for (const pid of cgroupProcs(this.id)) {
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue;
      }
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const key = `${pid}@${f[19]}`;
      const cpu = (Number(f[11]) + Number(f[12])) / 100; // USER_HZ
      const known = this.procs.get(key);
      if (known) {
        known[2] = cpu;
        continue;
      }
      let name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      try {
        const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/)[0] ?? '';
        if (argv0) name = argv0.startsWith('dovecot/') ? argv0 : argv0.slice(argv0.lastIndexOf('/') + 1);
      } catch {}
      this.procs.set(key, [name, first ? cpu : 0, cpu]);
    }
  }
  start(): void {
    this.procs.clear();
    this.read(true);
  }
  sample(): void {
    this.read(false);
  }
  /** Ends a window: its CPU by program is added to the totals. */
  stop(): void {
    this.read(false);
    for (const [name, from, to] of this.procs.values()) this.done[name] = (this.done[name] ?? 0) + to - from;
    this.procs.clear();
  }
  totals(): [string, number][] {
    return Object.entries(this.done)
      .filter(([, x]) => x >= 0.01)
      .sort((x, y) => y[1] - x[1]);
  }
}

interface Run {
  accepted: number;
  delivered: number;
  /** The container's CPU seconds from the first connection until the last delivery. */
  cpu: number | undefined;
  /** The machine's idle share over the same time (0..1): near 0, the run was CPU-bound. */
  idle: number;
}

/** The host's [idle, total] jiffies from /proc/stat (all CPUs). */
function hostJiffies(): [number, number] {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: idle + iowait is time nobody could use.
  return [f[3]! + f[4]!, f.slice(0, 8).reduce((a, b) => a + b, 0)];
}

/** Sends MESSAGES from alice to bob through a pool; seconds until all accepted, and until all delivered. */
async function throughput(
  side: Side,
  ca: string,
  count: number,
  tag: string,
  sampler?: CpuSampler,
): Promise<Run> {
  const before = delivered(side.mailDir);
  const cpu0 = cpuNs(side.container);
  const host0 = hostJiffies();
  sampler?.start();
  const timer = sampler ? setInterval(() => sampler.sample(), 250) : undefined;
  try {
    const run = await sendAndWait(side, ca, count, tag, before, cpu0);
    const host1 = hostJiffies();
    return { ...run, idle: (host1[0] - host0[0]) / Math.max(1, host1[1] - host0[1]) };
  } finally {
    clearInterval(timer);
    sampler?.stop();
  }
}

async function sendAndWait(
  side: Side,
  ca: string,
  count: number,
  tag: string,
  before: number,
  cpu0: number | undefined,
): Promise<Omit<Run, 'idle'>> {
  const body = `A small message from the mail bench (${tag}).\n`.repeat(8);
  const t0 = performance.now();
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: CONNECTIONS,
    // Each connection keeps going (nodemailer's default is 100 messages, then a new connection and a
    // new AUTH): PIC's Postfix allows 20 AUTH a minute per client address, and the rounds follow
    // one another quickly. A phone logs in once per connection too.
    maxMessages: Number.POSITIVE_INFINITY,
    host: side.ip,
    port: 587,
    secure: false,
    requireTLS: true,
    servername: MAIL_HOST,
    tls: { ca, servername: MAIL_HOST },
    auth: { user: `alice@${DOMAIN}`, pass: side.passwords.alice },
    connectionTimeout: 30_000,
  });
  let accepted = 0;
  try {
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        transport
          .sendMail({
            from: `alice@${DOMAIN}`,
            to: `bob@${DOMAIN}`,
            subject: `mail bench ${tag} #${i}`,
            text: body,
          })
          .then((info) => {
            if (info.rejected.length) throw new Error(`${side.label}: rejected ${info.response}`);
          }),
      ),
    );
    accepted = (performance.now() - t0) / 1000;
  } finally {
    transport.close();
  }
  // Delivery must keep moving: a minute without a new message in the Maildir is a failure.
  let n = 0;
  let last = 0;
  let moved = Date.now();
  for (;;) {
    n = delivered(side.mailDir) - before;
    if (n >= count) break;
    if (n !== last) [last, moved] = [n, Date.now()];
    if (Date.now() - moved > 60_000)
      throw new Error(
        `${side.label}: ${n} of ${count} delivered, none for a minute: ${tryDocker(['logs', '--tail', '20', side.container]).stdout}`,
      );
    await sleep(50);
  }
  const done = (performance.now() - t0) / 1000;
  if (n !== count) throw new Error(`${side.label}: ${n} messages delivered, ${count} sent`);
  const cpu1 = cpuNs(side.container);
  return {
    accepted: count / accepted,
    delivered: count / done,
    cpu: cpu0 === undefined || cpu1 === undefined ? undefined : (cpu1 - cpu0) / 1e9,
  };
}

/** bob's INBOX message count over IMAPS 993 (the same certificate check as submission). */
async function imapCount(side: Side, ca: string): Promise<number> {
  const client = new ImapFlow({
    host: side.ip,
    port: 993,
    secure: true,
    servername: MAIL_HOST,
    auth: { user: `bob@${DOMAIN}`, pass: side.passwords.bob },
    tls: { ca, servername: MAIL_HOST },
    logger: false,
  });
  await client.connect();
  try {
    const s = await client.status('INBOX', { messages: true });
    return s ? (s.messages ?? -1) : -1;
  } finally {
    await client.logout();
  }
}

function memMiB(container: string): number {
  const s = docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', container]);
  const m = /([\d.]+)\s*([KMG]i?B)/.exec(s);
  const unit = { KiB: 1 / 1024, KB: 1 / 1024, MiB: 1, MB: 1, GiB: 1024, GB: 1024 }[m?.[2] ?? 'MiB'] ?? 1;
  return Number(m?.[1] ?? 0) * unit;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number) => x.toFixed(1);

try {
  console.log(`load average at the start ${loads()}`);
  const refImage = await build(join(HERE, 'reference'), 'reference');
  const tlsDir = tempDir('tls');
  const tls = await makeTls(tlsDir);
  const { ca } = tls;
  net = `${prefix}net`;
  docker(['network', 'create', net]);

  const sides: Side[] = [await startReference(refImage, tlsDir)];
  const memContainers: { label: string; container: string; goal?: number }[] = [
    { label: 'reference (Postfix + Dovecot by hand)', container: sides[0]!.container },
  ];
  if (!REFERENCE_ONLY) {
    const emailImage = await build((await builtin('email')).context, 'email');
    const email = await startEmail(tls, emailImage);
    for (const t of toggles.toReversed())
      sides.unshift(await startEmail(tls, emailImage, t, TOGGLES[t]!.tweak));
    for (const t of toggles) console.log(`PIC ${t}: ${TOGGLES[t]!.what}`);
    sides.unshift(email);
    memContainers.unshift(
      { label: 'PIC email (Postfix + Dovecot + OpenDKIM)', container: email.container, goal: GOAL_MB },
      {
        label: 'PIC webmail (Roundcube, nginx, php-fpm)',
        container: await startWebmail(tls, email.container),
        goal: GOAL_MB,
      },
    );
  }

  console.log(`settling ${SETTLE_S} s before the idle memory`);
  await sleep(SETTLE_S * 1000);
  const idle = memContainers.map((m) => memMiB(m.container));

  // One untimed batch each: TLS session caches, the first writes of the volumes, Postfix's processes.
  for (const s of sides) await throughput(s, ca, 20, 'warm-up');
  const sent = 20 + ROUNDS * MESSAGES;

  console.log(
    `${ROUNDS} rounds of ${MESSAGES} messages, ${CONNECTIONS} pooled connections to 587 (STARTTLS, AUTH) from the host`,
  );
  const results: Record<string, Run>[] = [];
  const samplers = new Map(sides.map((s) => [s.label, new CpuSampler(s.container)]));
  for (let r = 0; r < ROUNDS; r++) {
    const load = loadavg()[0]!;
    const order = r % 2 === 0 ? sides : [...sides].reverse();
    const row: Record<string, Run> = {};
    for (const s of order)
      row[s.label] = await throughput(s, ca, MESSAGES, `round ${r + 1}`, samplers.get(s.label));
    results.push(row);
    console.log(
      `round ${r + 1} (${order[0]!.label} first, load ${load.toFixed(1)}): ` +
        sides
          .map(
            (s) =>
              `${s.label} ${fmt(row[s.label]!.accepted)} accepted/s, ${fmt(row[s.label]!.delivered)} delivered/s, ` +
              `${fmt(row[s.label]!.cpu ?? Number.NaN)} CPU s, host ${Math.round(row[s.label]!.idle * 100)}% idle`,
          )
          .join('; '),
    );
  }

  for (const s of sides) {
    const n = await imapCount(s, ca);
    if (n !== sent)
      throw new Error(`${s.label}: IMAP STATUS says ${n} messages in bob's INBOX, ${sent} were sent`);
  }
  console.log(`IMAP STATUS over 993: ${sent} messages in bob's INBOX on every side`);

  const ref = sides.find((s) => s.label === 'reference')!;
  console.log(
    `\n| side | accepted msg/s | delivered msg/s | ratio accepted (rounds; goal ≥ ${GOAL_RATIO}) | ratio delivered (rounds) | container CPU ms per message |`,
  );
  console.log('|---|---:|---:|---|---|---:|');
  for (const s of sides) {
    const acc = results.map((x) => x[s.label]!.accepted);
    const del = results.map((x) => x[s.label]!.delivered);
    const rAcc = results.map((x) => x[s.label]!.accepted / x[ref.label]!.accepted);
    const rDel = results.map((x) => x[s.label]!.delivered / x[ref.label]!.delivered);
    const ratios = (rs: number[]) =>
      `**${median(rs).toFixed(2)}** (${rs.map((x) => x.toFixed(2)).join(', ')})`;
    console.log(
      `| ${s.label} | ${fmt(median(acc))} | ${fmt(median(del))} | ${s === ref ? '1' : ratios(rAcc)} | ${s === ref ? '1' : ratios(rDel)} | ` +
        `${fmt((median(results.map((x) => x[s.label]!.cpu ?? Number.NaN)) * 1000) / MESSAGES)} |`,
    );
  }
  const n = ROUNDS * MESSAGES;
  console.log(
    `\nCPU ms per message by program over the rounds (${n} messages; cgroup total, then each program; ` +
      'the rest is processes that exited between samples):',
  );
  for (const s of sides) {
    const total = results.reduce((t, x) => t + (x[s.label]!.cpu ?? Number.NaN), 0);
    const progs = samplers.get(s.label)!.totals();
    const rest = total - progs.reduce((t, [, x]) => t + x, 0);
    console.log(
      `  ${s.label}: total ${((total * 1000) / n).toFixed(2)}; ${progs
        .filter(([, x]) => (x * 1000) / n >= 0.05)
        .map(([p, x]) => `${p} ${((x * 1000) / n).toFixed(2)}`)
        .join(', ')}; rest ${((rest * 1000) / n).toFixed(2)}`,
    );
  }

  console.log(`\nsettling ${SETTLE_AFTER_S} s after the rounds`);
  await sleep(SETTLE_AFTER_S * 1000);
  console.log(
    `\n| container | idle memory MiB (before the rounds) | ${SETTLE_AFTER_S} s after the rounds | goal MB |`,
  );
  console.log('|---|---:|---:|---:|');
  memContainers.forEach((m, i) => {
    console.log(`| ${m.label} | ${fmt(idle[i]!)} | ${fmt(memMiB(m.container))} | ${m.goal ?? '–'} |`);
  });
  console.log(`load average at the end ${loads()}`);
} finally {
  cleanup();
}
