// End-to-end harness: a real cell on the Docker engine, in a temp cell directory, with its own name
// prefix, subnet and high loopback-only host ports so it cannot collide with a real cell. Nothing it
// starts talks to anything off this machine: Unbound has no forwarders and chrony no upstream unless a
// test names one it started itself on the cell network.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
const NODE = process.execPath;
const PIC = join(ROOT, 'src', 'cli', 'main.ts');

function run(cmd: string, args: string[], timeoutMs = 20 * 60_000): string {
  const r = spawnSync(cmd, args, {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Docker engine running, base images present, the UI and every image built (each step skips what is done). */
export function ensureImages(): void {
  run('bash', [join(ROOT, 'scripts', 'ensure-docker.sh')]);
  run('bash', [join(ROOT, 'scripts', 'base-images.sh')]);
  run(NODE, [
    join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'),
    'build',
    '--config',
    'web/vite.config.ts',
    '--logLevel',
    'warn',
  ]);
  run('bash', [join(ROOT, 'scripts', 'build-images.sh')]);
}

export async function freePort(proto: 'tcp' | 'udp' = 'tcp'): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
      s.on('error', reject);
    });
    if (proto === 'tcp' || port > 20000) return port;
  }
}

export function docker(args: string[]): string {
  return run('docker', args, 120_000);
}

/** A docker command whose failure is an answer, not an error (a refused ping, a clashing subnet). */
export function tryDocker(args: string[]): { ok: boolean; stdout: string; stderr: string } {
  const r = spawnSync('docker', args, { encoding: 'utf8', timeout: 60_000 });
  return { ok: r.status === 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/**
 * The source address of this host's default route, read as `pic up` reads it (the routing table only:
 * `ip route get` sends nothing). Devices on any bridge reach the host there.
 */
export function hostRouteAddress(): string {
  const routes = JSON.parse(run('ip', ['-j', 'route', 'get', '192.0.2.1'], 10_000)) as { prefsrc?: string }[];
  const address = routes.find((r) => r.prefsrc)?.prefsrc;
  if (!address) throw new Error('this host has no IPv4 default route: the endpoint test needs one');
  return address;
}

export interface TestCell {
  dir: string;
  prefix: string;
  ports: { dns: number; ntp: number; wg: number; api: number; webui: number; http: number; https: number };
  token: string;
  url: string;
  name(service: string): string;
  pic(args: string[]): string;
  destroy(): void;
}

export interface CellOptions {
  /** Host address the cell publishes its ports on (default 127.0.0.1: nothing outside the host sees it). */
  bindAddress?: string;
}

export async function startCell(opts: CellOptions = {}): Promise<TestCell> {
  const bind = opts.bindAddress ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'pic-e2e-'));
  const id = Math.random().toString(36).slice(2, 7);
  const prefix = `e2e${id}-`;
  const octet = 100 + Math.floor(Math.random() * 100);
  const ports = {
    dns: await freePort(),
    ntp: await freePort(),
    wg: await freePort(),
    api: await freePort(),
    webui: await freePort(),
    http: await freePort(),
    https: await freePort(),
  };
  writeFileSync(
    join(dir, '.env'),
    [
      `PIC_NAME_PREFIX=${prefix}`,
      `CELL_NETWORK=10.${octet}.0.0/16`,
      `BIND_ADDRESS=${bind}`,
      `DNS_PORT=${ports.dns}`,
      `NTP_PORT=${ports.ntp}`,
      `WG_PORT=${ports.wg}`,
      `API_PORT=${ports.api}`,
      `WEBUI_PORT=${ports.webui}`,
      `HTTP_PORT=${ports.http}`,
      `HTTPS_PORT=${ports.https}`,
      '',
    ].join('\n'),
  );
  const pic = (args: string[]) => run(NODE, [PIC, ...args, '--dir', dir], 10 * 60_000);
  const out = pic(['up', '--no-build']);
  const token = out.trim().split('\n').at(-1)!.trim();
  if (!/^[a-z0-9]{5}(-[a-z0-9]{5}){3}$/.test(token))
    throw new Error(`pic up printed no setup token:\n${out}`);
  return {
    dir,
    prefix,
    ports,
    token,
    url: `http://${bind}:${ports.webui}`,
    name: (service) => `${prefix}cell-${service}`,
    pic,
    destroy() {
      try {
        pic(['uninstall', '--purge', '--yes']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Everything Docker holds that is labelled for the cell in `dir` (must be empty after teardown). */
export function leftovers(prefix: string): string[] {
  const out: string[] = [];
  const kinds: [string[], string][] = [
    [['ps', '-a'], '{{.Names}}'],
    [['network', 'ls'], '{{.Name}}'],
    [['volume', 'ls'], '{{.Name}}'],
  ];
  for (const [kind, format] of kinds) {
    const names = docker([...kind, '--filter', 'label=org.pic.managed=true', '--format', format])
      .split('\n')
      .filter((n) => n.startsWith(prefix));
    out.push(...names);
  }
  return out;
}

/** A cookie-and-CSRF API client, through Caddy like a browser. */
export class ApiClient {
  readonly base: string;
  cookie = '';
  csrf = '';
  constructor(base: string) {
    this.base = base;
  }
  async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const headers: Record<string, string> = {};
    if (this.cookie) headers.cookie = this.cookie;
    if (this.csrf && method !== 'GET') headers['x-csrf-token'] = this.csrf;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const send = () =>
      fetch(`${this.base}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    // A pooled keep-alive connection dies when a test recreates Caddy: retry once on a fresh one.
    const r = await send().catch(() => send());
    const set = r.headers
      .getSetCookie()
      .find((c) => /^(__Host-)?pic_session=[^;]+/.test(c) && !c.includes('Max-Age=0'));
    if (set) this.cookie = set.split(';')[0]!;
    const text = await r.text();
    const json = text ? JSON.parse(text) : undefined;
    if (json && typeof json === 'object' && 'csrf_token' in json)
      this.csrf = String((json as { csrf_token: string }).csrf_token);
    return { status: r.status, json };
  }
}

export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

export const ADMIN_PASSWORD = 'e2e-admin-password-1';

/** Completes setup with the cell's token; the client holds the admin session afterwards. */
export async function completeSetup(cell: TestCell, client: ApiClient): Promise<void> {
  const done = await client.call('POST', '/api/setup/complete', {
    token: cell.token,
    cell_name: 'e2e',
    domain_mode: 'local',
    timezone: 'UTC',
    admin_password: ADMIN_PASSWORD,
    services: [],
  });
  if (done.status !== 201) throw new Error(`setup failed: ${done.status} ${JSON.stringify(done.json)}`);
}

export { spawn };
