// WireguardPort over an exec function: argv run inside cell-wireguard (docker exec in the cell, `ip
// netns exec` in the integration tests). Never a shell; keys travel in files and stdin, never argv.
//   apply: the server config goes in through stdin (dd) to a 0600 temp file in the config
//          dir (/etc/wireguard, the mounted config/wireguard), `wg syncconf` loads it (peers changed in
//          place: other tunnels keep their sessions), then `mv` makes it the file a restart loads (an
//          atomic rename). Then the firewall: one `iptables-restore --noflush` (each table one
//          transaction); PIC's chains are read with iptables-save only when not known from the last apply.
//   dump:  `wg show wg0 dump`, parsed at once; the private and preshared keys in it are dropped.
import { randomBytes } from 'node:crypto';
import type { FirewallModel, WgDump, WireguardPort } from '../../core/peers/wireguard-port.ts';
import {
  type FirewallPresent,
  parsePresent,
  peerChain,
  renderFirewall,
} from '../../render/firewall/peer-rules.ts';
import { renderFirewallDelta } from '../../render/firewall/peer-rules-delta.ts';
import { renderServerConf, type ServerConfInput } from '../../render/wireguard/server-conf.ts';

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}
export type Exec = (argv: string[], opts?: { stdin?: string }) => Promise<ExecResult>;

export interface ExecWireguardOptions {
  exec: Exec;
  /** Directory of the config inside the container (mounted from config/wireguard). */
  confDir?: string;
  iface?: string;
  /** Is the container (or namespace) there at all? Checked before the first exec of a call. */
  present?: () => Promise<boolean>;
}

export class ExecWireguard implements WireguardPort {
  readonly #o: Required<ExecWireguardOptions>;
  /** PIC's chains and hooks as our last successful restore left them; undefined = read them first. */
  #present: FirewallPresent | undefined;
  #port: number | undefined;
  /** The firewall model of the last successful load: the next apply sends only the difference. */
  #lastFirewall: FirewallModel | undefined;
  /** When `wg show` last answered: within a second the interface is taken as running (one exec less). */
  #runningAt = 0;

  constructor(o: ExecWireguardOptions) {
    this.#o = { confDir: '/etc/wireguard', iface: 'wg0', present: async () => true, ...o };
  }

  async #run(argv: string[], stdin?: string): Promise<string> {
    const r = await this.#o.exec(argv, stdin === undefined ? {} : { stdin });
    // The command's own words only (stderr, first line): stdout may hold keys (wg show dump).
    if (r.exitCode !== 0)
      throw new Error(
        `${argv.slice(0, 2).join(' ')} exited ${r.exitCode}: ${r.stderr.split('\n')[0]?.slice(0, 300) ?? ''}`,
      );
    return r.stdout;
  }

  async running(): Promise<boolean> {
    try {
      if (!(await this.#o.present())) return false;
      if (Date.now() - this.#runningAt < 1000) return true;
      const r = await this.#o.exec(['wg', 'show', this.#o.iface, 'listen-port']);
      if (r.exitCode === 0) this.#runningAt = Date.now();
      return r.exitCode === 0;
    } catch {
      return false;
    }
  }

  async loaded(): Promise<boolean> {
    try {
      const r = await this.#o.exec(['iptables', '-S', 'PIC-FORWARD', '1']);
      if (r.exitCode !== 0) {
        // A restarted container: nothing of ours is there, and its WG_PORT may have changed.
        this.#present = undefined;
        this.#port = undefined;
        this.#lastFirewall = undefined;
      }
      return r.exitCode === 0;
    } catch {
      return false;
    }
  }

  /** The port the interface must keep: the container's WG_PORT, else whatever it listens on now. */
  async #listenPort(): Promise<number | undefined> {
    if (this.#port !== undefined) return this.#port;
    const env = await this.#o.exec(['printenv', 'WG_PORT']);
    let port = env.exitCode === 0 ? Number(env.stdout.trim()) : Number.NaN;
    if (!(port > 0 && port < 65536))
      port = Number((await this.#run(['wg', 'show', this.#o.iface, 'listen-port'])).trim());
    this.#port = port > 0 && port < 65536 ? port : undefined;
    return this.#port;
  }

  /** The rendered server config of the last apply (the benchmark syncs the same file bare). */
  lastServerConf: string | undefined;

  async apply(server: ServerConfInput, firewall: FirewallModel): Promise<void> {
    const { confDir, iface } = this.#o;
    const serverConf = renderServerConf({ ...server, listenPort: await this.#listenPort() }).output;
    this.lastServerConf = serverConf;
    const final = `${confDir}/${iface}.conf`;
    const temp = `${confDir}/.pic-tmp-${iface}.conf.${randomBytes(6).toString('hex')}`;
    try {
      // Created empty with its final mode first, then filled by dd from stdin (fd 0 as given: docker
      // exec hands a pipe, other runners a socket, which /dev/stdin cannot be opened on), fsynced.
      await this.#run(['install', '-m', '600', '/dev/null', temp]);
      await this.#run(['dd', `of=${temp}`, 'conv=notrunc,fsync', 'status=none'], serverConf);
      await this.#run(['wg', 'syncconf', iface, temp]);
      await this.#run(['mv', '-f', temp, final]);
    } catch (err) {
      await this.#o.exec(['rm', '-f', temp]).catch(() => undefined);
      throw err;
    }
    const model = { ...firewall, iface };
    const last = this.#lastFirewall;
    this.#lastFirewall = undefined;
    const delta = this.#present && last ? renderFirewallDelta(last, model) : undefined;
    let done = false;
    if (delta) {
      try {
        if (delta.output) await this.#run(['iptables-restore', '--noflush'], delta.output);
        done = true;
      } catch {
        // The loaded rules are not what we last wrote: read them and load the whole document.
        this.#present = undefined;
      }
    }
    if (!done) {
      const present = this.#present ?? parsePresent(await this.#run(['iptables-save']));
      this.#present = undefined;
      await this.#run(['iptables-restore', '--noflush'], renderFirewall({ ...model, present }).output);
    }
    this.#present = {
      filterChains: [
        'PIC-FORWARD',
        'PIC-INPUT',
        'PIC-P2P',
        ...firewall.peers.map((p) => peerChain(p.address)),
      ],
      natChains: ['PIC-PREROUTING'],
      hooks: { forward: true, input: true, prerouting: true },
    };
    this.#lastFirewall = structuredClone(model);
  }

  async dump(): Promise<WgDump | undefined> {
    if (!(await this.running())) return undefined;
    return parseDump(await this.#run(['wg', 'show', this.#o.iface, 'dump']));
  }
}

/** Parses `wg show <if> dump`: line 1 the interface, then one line per peer, tab-separated. */
export function parseDump(text: string): WgDump {
  const [head, ...lines] = text.trim().split('\n');
  // private-key public-key listen-port fwmark: the private key is never kept.
  const h = (head ?? '').split('\t');
  return {
    publicKey: h[1] ?? '',
    listenPort: Number(h[2]) || 0,
    peers: lines
      .filter((l) => l.trim())
      .map((l) => {
        // public-key preshared-key endpoint allowed-ips latest-handshake rx tx keepalive
        const f = l.split('\t');
        return {
          publicKey: f[0] ?? '',
          endpoint: f[2] && f[2] !== '(none)' ? f[2] : null,
          allowedIps: f[3] && f[3] !== '(none)' ? f[3].split(',') : [],
          latestHandshake: Number(f[4]) || 0,
          rx: Number(f[5]) || 0,
          tx: Number(f[6]) || 0,
        };
      }),
  };
}
