// Test support (not shipped behaviour): network namespaces with real wireguard-go interfaces, so the
// WireGuard driver and whole peer scenarios run against the real daemons on this machine without
// Docker. Every command is an argv array; names carry a random tag so parallel runs do not collide.
// Needs root, /dev/net/tun, wireguard-go, wireguard-tools, iproute2 and iptables.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Exec, ExecResult } from './exec-wireguard.ts';

export function canRunNetns(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!existsSync('/dev/net/tun')) return 'needs /dev/net/tun';
  for (const bin of ['/usr/bin/wireguard-go', '/usr/bin/wg', '/usr/sbin/ip', '/usr/sbin/iptables-restore'])
    if (!existsSync(bin)) return `needs ${bin}`;
  return undefined;
}

export function run(argv: string[], stdin?: string, timeoutMs = 20_000): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = execFile(
      argv[0]!,
      argv.slice(1),
      { timeout: timeoutMs, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ exitCode: code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
    else child.stdin?.end();
  });
}

export async function must(argv: string[], stdin?: string): Promise<string> {
  const r = await run(argv, stdin);
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} → ${r.exitCode}: ${r.stderr.trim()}`);
  return r.stdout;
}

export class Netns {
  readonly name: string;
  readonly #children: ChildProcess[] = [];
  constructor(name: string) {
    this.name = name;
  }
  static async create(name: string): Promise<Netns> {
    await must(['ip', 'netns', 'add', name]);
    const ns = new Netns(name);
    await ns.must(['ip', 'link', 'set', 'lo', 'up']);
    return ns;
  }
  run(argv: string[], stdin?: string, timeoutMs?: number): Promise<ExecResult> {
    return run(['ip', 'netns', 'exec', this.name, ...argv], stdin, timeoutMs);
  }
  must(argv: string[], stdin?: string): Promise<string> {
    return must(['ip', 'netns', 'exec', this.name, ...argv], stdin);
  }
  /** The Exec a WireGuard driver uses to act inside this namespace. */
  exec: Exec = (argv, opts) => this.run(argv, opts?.stdin);
  /** A long-running process inside the namespace, killed by destroy(). */
  spawn(argv: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.name, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#children.push(child);
    return child;
  }
  async wireguardGo(iface: string): Promise<void> {
    // wireguard-go daemonizes once the interface exists; its UAPI socket is /var/run/wireguard/<iface>.sock.
    await this.must(['wireguard-go', iface]);
  }
  async destroy(): Promise<void> {
    for (const c of this.#children) if (c.exitCode === null) c.kill('SIGKILL');
    // Deleting a wireguard-go interface ends that daemon; then the namespace goes.
    const links = await this.run(['ip', '-o', 'link', 'show']);
    for (const m of links.stdout.matchAll(/^\d+: ([^:@]+)[:@]/gm))
      if (m[1] !== 'lo') await this.run(['ip', 'link', 'del', m[1]!]);
    await run(['ip', 'netns', 'del', this.name]);
  }
}

export const tag = () => randomBytes(3).toString('hex');

/** pic-wg-apply from the repository, run by the host's bash inside a namespace (the image installs the same file). */
export const REPO_APPLY_COMMAND = [
  'bash',
  new URL('../../../images/cell-wireguard/apply.sh', import.meta.url).pathname,
];
