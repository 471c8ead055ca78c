// WireguardPort over an exec function: argv run inside cell-wireguard (docker exec in the cell, `ip
// netns exec` in the integration tests). Never a shell; keys travel in files and stdin, never argv.
//   apply: one exec of pic-wg-apply (images/cell-wireguard/apply.sh). When the live state is known from
//          our last apply (the usual case), `delta`: the peers removed and added (`wg set … remove`,
//          `wg addconf` of the changed [Peer] sections only) and one `iptables-restore --noflush` of the
//          changed chains; then, off the answer's path, `save` writes the whole server config (a 0600
//          temp file in /etc/wireguard, the mounted config/wireguard, fsynced and renamed) as what a
//          restart loads. Otherwise `full`: that file, `wg syncconf` of it, the whole firewall document
//          (PIC's chains read with iptables-save first).
//   dump:  `wg show wg0 dump`, parsed at once; the private and preshared keys in it are dropped.
import type { FirewallModel, WgDump, WireguardPort } from '../../core/peers/wireguard-port.ts';
import { parsePresent, renderFirewall } from '../../render/firewall/peer-rules.ts';
import { renderFirewallDelta } from '../../render/firewall/peer-rules-delta.ts';
import { SectionCache } from '../../render/wireguard/section-cache.ts';
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
  /** Did our last restore succeed (PIC's chains are as #lastFirewall says)? Else read them first. */
  #firewallKnown = false;
  #port: number | undefined;
  /** The firewall model of the last successful load: the next apply sends only the difference. */
  #lastFirewall: FirewallModel | undefined;
  /** The peers of the last successful apply: the next one removes and adds only what changed. */
  #lastPeers: ServerPeer[] | undefined;
  /** When `wg show` last answered: within a second the interface is taken as running (one exec less). */
  #runningAt = 0;
  /** Peer sections rendered before: rendering the whole config again formats only new ones. */
  readonly #sections = new SectionCache();
  #saving: Promise<void> = Promise.resolve();
  #saveRunning = false;
  #saveWanted: ServerConfInput | undefined;
  /** The config of a save that failed: written again by the next loaded(). */
  #unsaved: ServerConfInput | undefined;

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
      // A config file left unwritten is written again (the live state is fine: no full apply,
      // whose syncconf would make wireguard-go rebind its socket).
      const unsaved = this.#unsaved;
      this.#unsaved = undefined;
      if (unsaved && r.exitCode === 0 && !this.#saveWanted) this.#save(unsaved);
      if (r.exitCode !== 0) {
        // A restarted container: nothing of ours is there, and its WG_PORT may have changed.
        this.#firewallKnown = false;
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

  forget(): void {
    this.#firewallKnown = false;
    this.#lastFirewall = undefined;
    this.#lastPeers = undefined;
  }

  async apply(server: ServerConfInput, firewall: FirewallModel): Promise<void> {
    const { confDir, iface } = this.#o;
    const input: ServerConfInput = { ...server, listenPort: await this.#listenPort() };
    const model = { ...firewall, iface };
    const last = this.#lastFirewall;
    this.#lastFirewall = undefined;
    // Only what changed since our last load; without a known last load, the whole document.
    const delta = this.#firewallKnown && last ? renderFirewallDelta(last, model) : undefined;
    this.#firewallKnown = false;
    const document =
      delta?.output ??
      renderFirewall({ ...model, present: parsePresent(await this.#run(['iptables-save'])) }).output;
    // Peers as a delta from our last apply (wg set … remove, wg addconf): a syncconf would rebind
    // wireguard-go's socket and drop packets of every other tunnel. Unknown last state: full syncconf.
    const before = this.#lastPeers;
    this.#lastPeers = undefined;
    let r: ExecResult;
    if (before) {
      // The live change alone; the file a restart loads is written right after (#save), off this path.
      const peers = renderServerDelta(before, server.peers);
      r = await this.#o.exec([...this.#o.applyCommand, iface, confDir, 'delta'], {
        stdin: [
          '#PIC-WG-REMOVE#\n',
          peers.remove.map((k) => `${k}\n`).join(''),
          '#PIC-WG-ADD#\n',
          peers.add,
          document ? `#PIC-FIREWALL#\n${document}` : '',
        ].join(''),
      });
    } else {
      // The file, the syncconf and the firewall in one exec; no save of an older config may land after it.
      await this.#saving;
      this.#saveWanted = undefined;
      // Nor a retry of a save that failed earlier: this apply writes a newer file than that one.
      this.#unsaved = undefined;
      r = await this.#o.exec([...this.#o.applyCommand, iface, confDir, 'full'], {
        stdin: `${renderServerConf(input, this.#sections).output}#PIC-FIREWALL#\n${document}`,
      });
    }
    if (r.exitCode === 66 && delta) {
      // The loaded rules are not what we last wrote (changed by hand, or a restart): reload them whole.
      const now = parsePresent(await this.#run(['iptables-save']));
      await this.#run(['iptables-restore', '--noflush'], renderFirewall({ ...model, present: now }).output);
    } else if (r.exitCode !== 0) {
      throw new Error(`pic-wg-apply exited ${r.exitCode}: ${r.stderr.split('\n')[0]?.slice(0, 300) ?? ''}`);
    }
    this.#firewallKnown = true;
    // Core hands each apply fresh objects and never changes them afterwards: kept as they are.
    this.#lastFirewall = model;
    this.#lastPeers = [...server.peers];
    if (before) this.#save(input);
  }

  /**
   * Writes the server config of the latest apply as the file a restart loads (pic-wg-apply save: temp
   * file, fsync, rename), one exec at a time; applies made meanwhile are folded into the next write.
   * A failed write is tried again by the next loaded() (the background tick), or by the next apply.
   */
  #save(input: ServerConfInput): void {
    this.#saveWanted = input;
    this.#unsaved = undefined;
    if (this.#saveRunning) return;
    this.#saveRunning = true;
    this.#saving = (async () => {
      // Starting a process blocks the event loop for a few ms (fork): let the answer go out first.
      await new Promise((resolve) => setImmediate(resolve));
      try {
        for (let want = this.#saveWanted; want; want = this.#saveWanted) {
          this.#saveWanted = undefined;
          const { confDir, iface } = this.#o;
          try {
            const conf = renderServerConf(want, this.#sections).output;
            const r = await this.#o.exec([...this.#o.applyCommand, iface, confDir, 'save'], { stdin: conf });
            if (r.exitCode !== 0) this.#unsaved = want;
          } catch {
            this.#unsaved = want;
          }
          if (this.#saveWanted) this.#unsaved = undefined; // a newer config follows anyway
        }
      } finally {
        this.#saveRunning = false;
      }
    })();
  }

  /** Resolves once the file a restart loads holds the last apply (benchmarks and tests wait on it). */
  saved(): Promise<void> {
    return this.#saving;
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
