// Keeping the data plane in step with the stored peers: the model (server peers + firewall) derived
// from the store, one apply at a time through the WireguardPort (which sends only the difference from
// its last apply: `wg set … remove` / `wg addconf` and an iptables-restore delta, never `wg syncconf`
// on the live path, see ADR 0013), and the background tick (expiry, pending applies, traffic samples).
// When no data plane runs a change stays stored and the tick applies it once one does. Addresses of
// removed peers are held until an apply has dropped them.
import { createHash } from 'node:crypto';
import {
  renderServerConf,
  type ServerConfInput,
  skippedPeerWarnings,
} from '../../render/wireguard/server-conf.ts';
import { storeGrants } from '../../schema/store-sites.ts';
import type { Warning } from '../../schema/warnings.ts';
import { AppError } from '../errors.ts';
import { isActive, peerRow } from './peer-lookup.ts';
import { hostOf, type PeersContext } from './peers-context.ts';
import type { PeerRow } from './peers-repository.ts';
import type { FirewallModel, WireguardPort } from './wireguard-port.ts';

export interface ApplyResult {
  applied: boolean;
  data_plane: 'running' | 'not_running';
  warnings: Warning[];
  /** Why a running data plane did not take the change (it is stored; the tick retries it). */
  error?: string;
}

/** What the data plane should hold: derived from the store, not yet rendered. */
export interface PeersModel {
  server: ServerConfInput;
  firewall: FirewallModel;
  warnings: Warning[];
  /** Addresses that keep a tunnel (holds on every other address are released after an apply). */
  live: Set<string>;
}

/**
 * The cell's DNS as the peers see it (DnsService): peers' names and per-peer views follow every peer
 * change. Its apply never throws; a change it cannot make stays pending in it.
 */
export interface PeersDnsPort {
  apply(): Promise<unknown>;
}

export const TRAFFIC_RETENTION_MS = 24 * 3600_000;
/** Traffic samples are taken on every tick at least this far apart (the tick runs every few seconds). */
export const SAMPLE_EVERY_MS = 30_000;

const hashOf = (m: PeersModel) =>
  createHash('sha256').update(JSON.stringify(m.server)).update(JSON.stringify(m.firewall)).digest('hex');

export class PeersApply {
  readonly #c: PeersContext;
  readonly #wg: WireguardPort;
  readonly #onError: (what: string, err: unknown) => void;
  readonly #dns: PeersDnsPort | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  /** The last model the data plane accepted (undefined = none this run); hashed only when asked. */
  #applied: PeersModel | undefined;
  #appliedHash: string | undefined;
  #lastSample = 0;

  constructor(
    ctx: PeersContext,
    wireguard: WireguardPort,
    onError?: (what: string, err: unknown) => void,
    dns?: PeersDnsPort,
  ) {
    this.#c = ctx;
    this.#wg = wireguard;
    this.#onError = onError ?? (() => undefined);
    this.#dns = dns;
  }

  /** Peers that get a tunnel now: enabled and not past their expiry. */
  #active(rows: PeerRow[]): PeerRow[] {
    const now = this.#c.now();
    return rows.filter((p) => isActive(p, now));
  }

  /** The server peers and the firewall for the stored peers (reads only). */
  model(): PeersModel {
    const cfg = this.#c.config.get();
    const rows = this.#active(this.#c.repo.list());
    const secrets = this.#c.repo.allSecrets();
    const cellNetwork = hostOf(this.#c, cfg).cellNetwork;
    // Installed store services: grantable at their virtual IPs (ADR 0023); left out when none, so the
    // model of a cell without the store is what it always was.
    const store = storeGrants(
      this.#c.installed?.() ?? [],
      this.#c.installedServices?.() ?? [],
      cfg.identity.domain,
      cellNetwork,
    );
    const peers = rows.map((p) => ({
      name: p.name,
      publicKey: p.public_key,
      presharedKey: secrets.get(p.id)!.preshared_key,
      address: p.address,
    }));
    return {
      server: { privateKey: this.#c.serverKey().privateKey, peers },
      firewall: {
        iface: 'wg0',
        outIface: 'eth0',
        vpnAddress: cfg.identity.vpn_address,
        cellNetwork,
        ...(store.length ? { store } : {}),
        peers: rows.map((p) => ({
          name: p.name,
          address: p.address,
          services: p.services,
          internet: p.internet,
          peer_to_peer: p.peer_to_peer,
        })),
      },
      warnings: skippedPeerWarnings(peers),
      live: new Set(rows.map((p) => p.address)),
    };
  }

  /** The model with the whole server config rendered (inspection and tests; applies do not need it). */
  render(): PeersModel & { serverConf: string } {
    const m = this.model();
    return { ...m, serverConf: renderServerConf(m.server).output };
  }

  /** Applies the stored state to the data plane; one apply at a time, in order. */
  apply(): Promise<ApplyResult> {
    const run = this.#chain.then(() => this.#apply());
    this.#chain = run.catch(() => undefined);
    // Names and views follow the stored peers whether or not WireGuard took the change.
    return this.#dns ? run.finally(() => this.#dns!.apply()) : run;
  }

  /**
   * Applies after a change was committed: a failure is part of the answer, not an error. The change
   * is stored (and retried by the tick); a 503 here would lose what only this answer carries, such as
   * a generated password.
   */
  async applyStored(): Promise<ApplyResult> {
    try {
      return await this.apply();
    } catch (err) {
      const message = err instanceof AppError ? err.message : 'WireGuard could not apply the change';
      return { applied: false, data_plane: 'running', warnings: this.model().warnings, error: message };
    }
  }

  /** A whole apply, nothing assumed about what runs (after a restore: a new server key, new peers). */
  applyInFull(): Promise<ApplyResult> {
    this.#wg.forget?.();
    this.#applied = undefined;
    this.#appliedHash = undefined;
    return this.apply();
  }

  get pending(): boolean {
    if (!this.#applied) return true;
    this.#appliedHash ??= hashOf(this.#applied);
    return this.#appliedHash !== hashOf(this.model());
  }

  async #apply(): Promise<ApplyResult> {
    const m = this.model();
    if (!(await this.#wg.running()))
      return { applied: false, data_plane: 'not_running', warnings: m.warnings };
    try {
      await this.#wg.apply(m.server, m.firewall);
    } catch (err) {
      this.#applied = undefined;
      throw new AppError(
        'unavailable',
        'WireGuard could not apply the peers; the change is stored and will be retried',
        {
          cause: err,
        },
      );
    }
    this.#applied = m;
    this.#appliedHash = undefined;
    this.#c.repo.releaseHolds(m.live);
    return { applied: true, data_plane: 'running', warnings: m.warnings };
  }

  /** The background step: expire peers, apply what is pending, sample traffic. Never throws. */
  async tick(opts: { sample?: boolean } = {}): Promise<void> {
    try {
      const now = this.#c.now();
      for (const p of this.#c.repo.list())
        if (p.enabled && p.expires_at !== null && Date.parse(p.expires_at) <= now)
          this.#c.repo.update(p.id, { enabled: false });
      if (await this.#wg.running()) {
        // Pending changes, or a restarted cell-wireguard (its firewall is gone): apply again.
        if (this.pending || !(await this.#wg.loaded())) await this.apply();
      }
      if (opts.sample !== false && now - this.#lastSample >= SAMPLE_EVERY_MS) {
        this.#lastSample = now;
        await this.sample();
      }
    } catch (err) {
      this.#onError('peers tick', err);
    }
  }

  /** One traffic sample per peer from `wg show wg0 dump` into the time series; prunes old samples. */
  async sample(): Promise<void> {
    const dump = await this.#wg.dump();
    if (!dump) return;
    const byKey = new Map(this.#c.repo.list().map((p) => [p.public_key, p.id]));
    const ts = this.#c.now();
    this.#c.repo.addSamples(
      dump.peers.flatMap((s) => {
        const peerId = byKey.get(s.publicKey);
        return peerId === undefined
          ? []
          : [{ peerId, ts, rx: s.rx, tx: s.tx, handshake: s.latestHandshake || null }];
      }),
    );
    this.#c.repo.pruneTraffic(ts - TRAFFIC_RETENTION_MS);
  }

  traffic(name: string, since?: string): Array<{ ts: string; rx: number; tx: number }> {
    const row = peerRow(this.#c.repo, name);
    const from = since ? Date.parse(since) : this.#c.now() - 3600_000;
    return this.#c.repo
      .traffic(row.id, from)
      .map((s) => ({ ts: new Date(s.ts).toISOString(), rx: s.rx, tx: s.tx }));
  }
}
