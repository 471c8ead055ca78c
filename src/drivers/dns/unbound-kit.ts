// Test helper (not shipped behaviour): a real Unbound on loopback, started from the repository's
// images/cell-dns/unbound.conf with its paths moved to a temp dir, listening on 127.0.0.1 and a random
// port (or the address and port asked), its control channel on a random loopback port, plain TCP as in
// cell-dns (control-use-cert: no, ADR 0017). The base config's unusable root hints stay: nothing ever leaves this
// machine. Loopback forwarders are allowed (do-not-query-localhost: no) so a test can point cell-dns at
// another Unbound it started. controlOn puts the unbound-control driver on it as cell-api builds it;
// startControlled is both, with no forwarder, through a pic-dns-control session by default.
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderForwardZone } from '../../render/unbound/forward-zone.ts';
import { writeFileAtomic } from '../atomic-file.ts';
import { ControlSession, localSession } from './control-session.ts';
import { type Exec, localExec, UnboundControl } from './unbound-control.ts';

const IMAGE = join(import.meta.dirname, '..', '..', '..', 'images', 'cell-dns');

export interface TestUnbound {
  dir: string;
  /** Where its included files go (the cell's config/dns/). */
  includeDir: string;
  conf: string;
  address: string;
  port: number;
  /** With `tap`: the socket of the pic-dns-blocked tap its log goes through, and the drain's argv. */
  blockedSocket?: string;
  drainArgv?: string[];
  tapPid?: number;
  stop(): Promise<void>;
}

/** The blocked-query tap of the cell-dns image (images/cell-dns/pic-dns-blocked). */
export const BLOCKED_TAP = join(IMAGE, 'pic-dns-blocked');
/**
 * The cell-dns image's control helper (images/cell-dns/pic-dns-control), to run on this machine
 * (control-session.ts's CONTROL_HELPER is its path in the image).
 */
export const LOCAL_CONTROL_HELPER = join(IMAGE, 'pic-dns-control');
/** A control session to pic-dns-control run here (its `exec` drives a test Unbound as in the cell). */
export const localControlSession = (env?: NodeJS.ProcessEnv) =>
  new ControlSession(localSession(LOCAL_CONTROL_HELPER, env));
/** The included files of an Unbound that forwards nowhere (a cell with no forwarder). */
export const NO_FORWARDERS = { 'forward.conf': renderForwardZone({ forwarders: [] }).output };

/** A port free on 127.0.0.1 for both UDP and TCP right now. */
export async function freePort(address = '127.0.0.1'): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, address, () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = createSocket('udp4');
      u.once('error', () => resolve(false));
      u.bind(port, address, () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
}

export interface StartUnboundOptions {
  files?: Record<string, string>;
  address?: string;
  port?: number;
  /** Unbound's log through the image's pic-dns-blocked, as the image's entrypoint runs it. */
  tap?: boolean;
}

/**
 * startUnboundOnce, again with fresh ports when Unbound could not bind one: a free port is only free
 * when asked, and another test process (the tiers run files two at a time) may take it before Unbound
 * binds it (seen on a clean-clone run: "can't bind socket: Address already in use" for the control port).
 */
export async function startUnbound(opts: StartUnboundOptions = {}): Promise<TestUnbound> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startUnboundOnce(opts);
    } catch (err) {
      const taken = /Address already in use/.test((err as Error).message);
      if (!taken || attempt === 3 || opts.port !== undefined) throw err;
    }
  }
}

async function startUnboundOnce(opts: StartUnboundOptions): Promise<TestUnbound> {
  const dir = mkdtempSync(join(tmpdir(), 'pic-unbound-run-'));
  const includeDir = join(dir, 'pic');
  mkdirSync(includeDir);
  const address = opts.address ?? '127.0.0.1';
  const port = opts.port ?? (await freePort(address));
  const controlPort = await freePort();
  for (const [name, text] of Object.entries(opts.files ?? {})) writeFileSync(join(includeDir, name), text);
  const conf = readFileSync(join(IMAGE, 'unbound.conf'), 'utf8')
    .replaceAll('"/etc/pic/unbound/', `"${includeDir}/`)
    .replaceAll('"/etc/unbound/no-root.hints"', `"${IMAGE}/no-root.hints"`)
    .replaceAll('"/etc/unbound"', `"${dir}"`)
    .replaceAll('"/run/unbound/', `"${dir}/`)
    .replace('username: "unbound"', 'username: ""')
    .replace('interface: 0.0.0.0', `interface: ${address}\n    do-not-query-localhost: no`)
    .replace('port: 53\n', `port: ${port}\n`)
    .replace('control-port: 8953', `control-port: ${controlPort}`)
    .replace('verbosity: 1', 'verbosity: 0');
  if (/"\/(etc|run|var)\//.test(conf)) throw new Error('an absolute path was not moved to the temp dir');
  const confPath = join(dir, 'unbound.conf');
  writeFileSync(confPath, conf);
  const child: ChildProcess = spawn('unbound', ['-d', '-p', '-c', confPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const blockedSocket = join(dir, 'blocked.sock');
  // As the entrypoint does: Unbound's stderr into the tap, the tap's stderr (the other lines) read here.
  const tap = opts.tap
    ? spawn(BLOCKED_TAP, ['tap', blockedSocket], { stdio: ['pipe', 'ignore', 'pipe'] })
    : undefined;
  if (tap) child.stderr!.pipe(tap.stdin!);
  (tap ?? child).stderr!.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const tapExited = tap ? new Promise<void>((resolve) => tap.once('exit', () => resolve())) : undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      await tapExited;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`unbound exited: ${stderr}`);
    }
    const st = await localExec(['unbound-control', '-c', confPath, 'status']);
    if (st.exitCode === 0) break;
    if (Date.now() > deadline) throw new Error(`unbound did not answer control: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50)); // polling a condition (control answers), not a sleep
  }
  return {
    dir,
    includeDir,
    conf: confPath,
    address,
    port,
    ...(tap ? { blockedSocket, drainArgv: [BLOCKED_TAP, 'drain', blockedSocket], tapPid: tap.pid! } : {}),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      await tapExited; // it ends with Unbound's stderr
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The unbound-control driver on a test Unbound as cell-api builds it: its commands through `exec`, the
 * zone in the included files' folder, written atomically; blocked queries drained through the tap's
 * socket when it was started with one.
 */
export function controlOn(ub: TestUnbound, exec: Exec): UnboundControl {
  return new UnboundControl({
    exec,
    conf: ub.conf,
    zonePath: join(ub.includeDir, 'zone.conf'),
    writeFile: (p, c) => writeFileAtomic(p, c),
    ...(ub.drainArgv ? { drainArgv: ub.drainArgv } : {}),
  });
}

/**
 * A test Unbound forwarding nowhere with the driver on it (controlOn), its commands through `exec` or
 * else through a pic-dns-control session run here, as in the cell; the Unbound's stop() ends the
 * session too.
 */
export async function startControlled(
  opts: { exec?: Exec; tap?: boolean } = {},
): Promise<{ ub: TestUnbound; dns: UnboundControl }> {
  const session = opts.exec ? undefined : localControlSession();
  let started: TestUnbound;
  try {
    started = await startUnbound({ files: NO_FORWARDERS, ...(opts.tap ? { tap: true } : {}) });
  } catch (e) {
    session?.close();
    throw e;
  }
  const ub: TestUnbound = {
    ...started,
    async stop() {
      session?.close();
      await started.stop();
    },
  };
  return { ub, dns: controlOn(ub, opts.exec ?? session!.exec) };
}
