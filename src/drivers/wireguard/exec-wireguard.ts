// WireguardPort over an exec function: argv run inside cell-wireguard (docker exec in the cell, `ip
// netns exec` in the integration tests). Never a shell; keys travel in files and stdin, never argv.
//   apply: one exec of pic-wg-apply (images/cell-wireguard/apply.sh) with the server config, the peer
//          delta and the firewall document on stdin: a 0600 temp file in the config dir (/etc/wireguard,
//          the mounted config/wireguard), the peers removed and added (`wg set … remove`, `wg addconf`;
//          `wg syncconf` when the live state is not known from our last apply), the rename that makes it
//          what a restart loads, one `iptables-restore --noflush` (each table one transaction). The
//          firewall too is a delta from our last load; PIC's chains are read with iptables-save only
//          when that is not known.
//   dump:  `wg show wg0 dump`, parsed at once; the private and preshared keys in it are dropped.
import type { FirewallModel, WgDump, WireguardPort } from '../../core/peers/wireguard-port.ts';
import { peerChain } from '../../render/firewall/peer-chain.ts';
import { type FirewallPresent, parsePresent, renderFirewall } from '../../render/firewall/peer-rules.ts';
import { renderFirewallDelta } from '../../render/firewall/peer-rules-delta.ts';
import {
  renderServerConf,
  type ServerConfInput,
  type ServerPeer,
} from '../../render/wireguard/server-conf.ts';
import { renderServerDelta } from '../../render/wireguard/server-delta.ts';

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
  /** argv of pic-wg-apply (images/cell-wireguard/apply.sh); IFACE and CONFDIR are appended. */
  applyCommand?: string[];
}

export class ExecWireguard implements WireguardPort {
  readonly #o: Required<ExecWireguardOptions>;
  /** PIC's chains and hooks as our last successful restore left them; undefined = read them first. */
  #present: FirewallPresent | undefined;
  #port: number | undefined;
  /** The firewall model of the last successful load: the next apply sends only the difference. */
  #lastFirewall: FirewallModel | undefined;
  /** The peers of the last successful apply: the next one removes and adds only what changed. */
  #lastPeers: ServerPeer[] | undefined;
  /** When `wg show` last answered: within a second the interface is taken as running (one exec less). */
  #runningAt = 0;

  constructor(o: ExecWireguardOptions) {
    this.#o = {
      confDir: '/etc/wireguard',
      iface: 'wg0',
      present: async () => true,
      applyCommand: ['/usr/local/bin/pic-wg-apply'],
      ...o,
    };
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
        this.#lastPeers = undefined;
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
    const model = { ...firewall, iface };
    const last = this.#lastFirewall;
    this.#lastFirewall = undefined;
    // Only what changed since our last load; without a known last load, the whole document.
    const delta = this.#present && last ? renderFirewallDelta(last, model) : undefined;
    const present = delta ? this.#present : parsePresent(await this.#run(['iptables-save']));
    this.#present = undefined;
    const document = delta ? delta.output : renderFirewall({ ...model, present: present! }).output;
    // Peers as a delta from our last apply (wg set … remove, wg addconf): a syncconf would rebind
    // wireguard-go's socket and drop packets of every other tunnel. Unknown last state: full syncconf.
    const before = this.#lastPeers;
    this.#lastPeers = undefined;
    const peers = before ? renderServerDelta(before, server.peers) : { remove: [], add: '' };
    // One exec does it all (pic-wg-apply): config to a 0600 temp file, fsync, the peers, rename, then
    // one iptables-restore --noflush. Every exec costs a round trip through the engine.
    const r = await this.#o.exec([...this.#o.applyCommand, iface, confDir, before ? 'delta' : 'full'], {
      stdin: [
        serverConf,
        '#PIC-WG-REMOVE#\n',
        peers.remove.map((k) => `${k}\n`).join(''),
        '#PIC-WG-ADD#\n',
        peers.add,
        '#PIC-FIREWALL#\n',
        document,
      ].join(''),
    });
    if (r.exitCode === 66 && delta) {
      // The loaded rules are not what we last wrote (changed by hand, or a restart): reload them whole.
      const now = parsePresent(await this.#run(['iptables-save']));
      await this.#run(['iptables-restore', '--noflush'], renderFirewall({ ...model, present: now }).output);
    } else if (r.exitCode !== 0) {
      throw new Error(`pic-wg-apply exited ${r.exitCode}: ${r.stderr.split('\n')[0]?.slice(0, 300) ?? ''}`);
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
    this.#lastPeers = structuredClone([...server.peers]);
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
