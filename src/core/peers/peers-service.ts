// Peers: create, change, remove, export, and keep the data plane in step. Every change is stored in
// one transaction first, then applied live (render server config + firewall, `wg syncconf`, one
// iptables-restore). When no data plane runs the change stays stored and the background tick applies
// it once one does. Addresses of removed peers are held until an apply has dropped them.
import { createHash, randomBytes } from 'node:crypto';
import QRCode from 'qrcode';
import { transaction } from '../../drivers/db.ts';
import type { PeerRow, PeersStore } from '../../drivers/store/peers-store.ts';
import type { UsersStore } from '../../drivers/store/users-store.ts';
import { renderPeerConf } from '../../render/wireguard/peer-conf.ts';
import { renderServerConf, type ServerConfInput } from '../../render/wireguard/server-conf.ts';
import { type CellConfig, vpnNetwork } from '../../schema/config.ts';
import type { CreatePeerInput, PeerView, UpdatePeerInput } from '../../schema/peers.ts';
import { PEER_SERVICE_IDS } from '../../schema/peers-services.ts';
import type { Warning } from '../../schema/warnings.ts';
import { hashPassword, randomPassword } from '../auth/password.ts';
import { RateLimiter } from '../auth/rate-limiter.ts';
import type { ConfigService } from '../config-service.ts';
import { AppError, notFound } from '../errors.ts';
import { allocateAddress } from './allocate.ts';
import { generateKeyPair, generatePresharedKey, type KeyPair } from './keys.ts';
import type { FirewallModel, WgDump, WireguardPort } from './wireguard-port.ts';

export interface PeersDeps {
  store: PeersStore;
  users: UsersStore;
  config: ConfigService;
  wireguard: WireguardPort;
  /** The cell's own WireGuard key pair (kept 0600 under data/secrets by a driver). */
  serverKey: () => KeyPair;
  /** Endpoint host when the config names none: a guess from this host, never asked of the internet. */
  guessEndpoint: () => string;
  /**
   * The cell network the containers really sit on and the port peers must dial, with the host's .env
   * overrides (CELL_NETWORK, the published WG_PORT) applied. Default: the configuration's values.
   */
  hostFacts?: (config: CellConfig) => { cellNetwork: string; wgPort: number };
  now?: () => number;
  onError?: (what: string, err: unknown) => void;
}

export interface ApplyResult {
  applied: boolean;
  data_plane: 'running' | 'not_running';
  warnings: Warning[];
}

export const TRAFFIC_RETENTION_MS = 24 * 3600_000;
/** Traffic samples are taken on every tick at least this far apart (the tick runs every few seconds). */
export const SAMPLE_EVERY_MS = 30_000;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export class PeersService {
  readonly #d: PeersDeps & { wireguard: WireguardPort };
  readonly #now: () => number;
  #chain: Promise<unknown> = Promise.resolve();
  /** Hash of the last server config + firewall the data plane accepted; undefined = never this run. */
  #appliedHash: string | undefined;
  #lastSample = 0;
  /** Config-link fetches per source address: the token is long, but guessing must stay slow anyway. */
  readonly linkFetches = new RateLimiter({ max: 20, windowMs: 15 * 60_000 });

  constructor(deps: PeersDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
  }

  /** Swaps the data plane in (the composition root does this once Docker is wired). */
  attach(wireguard: WireguardPort): void {
    this.#d.wireguard = wireguard;
    this.#appliedHash = undefined;
  }

  list(): PeerView[] {
    return this.#d.store.list().map(view);
  }

  get(name: string): PeerView {
    return view(this.#row(name));
  }

  #row(name: string): PeerRow {
    const row = this.#d.store.byName(name);
    if (!row) throw notFound(`Peer ${name}`);
    return row;
  }

  async create(input: CreatePeerInput): Promise<{
    peer: PeerView;
    config: string;
    qr: string;
    password?: string;
    apply: ApplyResult;
  }> {
    const { store, users, config } = this.#d;
    const withAccount = input.create_account ?? true;
    if (store.byName(input.name)) throw fieldConflict('name', `A peer named ${input.name} already exists`);
    if (input.public_key) this.#checkKeyFree(input.public_key);
    if (withAccount && users.byUsername(input.name))
      throw fieldConflict('name', `A login named ${input.name} already exists; pass create_account: false`);
    if (!withAccount && input.password)
      throw new AppError('validation_failed', 'Invalid password', {
        fields: [{ field: 'password', message: 'is only used with create_account' }],
      });
    const password = withAccount ? (input.password ?? randomPassword()) : undefined;
    const passwordHash = password ? await hashPassword(password) : undefined;

    const keys = input.public_key ? undefined : generateKeyPair();
    const routing = input.routing ?? 'split';
    const vpn = config.get().identity.vpn_address;
    transaction(store.db, () => {
      // Checked again inside the transaction: two concurrent creates must not share a name or address.
      if (store.byName(input.name)) throw fieldConflict('name', `A peer named ${input.name} already exists`);
      const address = allocateAddress(vpn, store.addressesInUse());
      if (!address)
        throw new AppError(
          'range_full',
          `No free address left in the VPN range ${vpnNetwork(vpn)}; remove a peer or widen identity.vpn_address`,
        );
      if (passwordHash) {
        if (users.byUsername(input.name))
          throw fieldConflict('name', `A login named ${input.name} already exists`);
        users.insert(input.name, 'peer', passwordHash);
      }
      store.insert({
        name: input.name,
        address,
        public_key: keys?.publicKey ?? input.public_key!,
        private_key: keys?.privateKey ?? null,
        preshared_key: generatePresharedKey(),
        routing,
        services: input.services ?? [...PEER_SERVICE_IDS],
        internet: input.internet ?? routing === 'full',
        peer_to_peer: input.peer_to_peer ?? false,
        enabled: input.enabled ?? true,
        expires_at: input.expires_at ?? null,
        account: Boolean(passwordHash),
      });
    });
    const apply = await this.apply();
    const exported = await this.exportConfig(input.name);
    return {
      peer: this.get(input.name),
      config: exported.config,
      qr: exported.qr,
      ...(password && !input.password ? { password } : {}),
      apply,
    };
  }

  #checkKeyFree(key: string, except?: number): void {
    const other = this.#d.store.byPublicKey(key);
    if ((other && other.id !== except) || key === this.#d.serverKey().publicKey)
      throw fieldConflict('public_key', 'This public key is already used by another peer or the cell');
  }

  async update(name: string, patch: UpdatePeerInput): Promise<{ peer: PeerView; apply: ApplyResult }> {
    const row = this.#row(name);
    if (patch.public_key && patch.public_key !== row.public_key) this.#checkKeyFree(patch.public_key, row.id);
    this.#d.store.update(row.id, {
      ...patch,
      // A key the device brought replaces the pair the cell generated: the cell forgets that private key.
      ...(patch.public_key && patch.public_key !== row.public_key ? { private_key: null } : {}),
    });
    return { peer: this.get(name), apply: await this.apply() };
  }

  async remove(name: string): Promise<ApplyResult> {
    const row = this.#row(name);
    const { store, users } = this.#d;
    transaction(store.db, () => {
      store.delete(row.id);
      store.hold(row.address);
      // The peer's login goes with it (its sessions cascade).
      if (row.account && users.byUsername(name)?.role === 'peer') users.delete(name);
    });
    return this.apply();
  }

  async exportConfig(name: string): Promise<{ config: string; qr: string; has_private_key: boolean }> {
    const row = this.#row(name);
    const cfg = this.#d.config.get();
    const host = this.#host();
    const secrets = this.#d.store.secretsOf(row.id);
    const server = this.#d.serverKey();
    const text = renderPeerConf({
      cellName: cfg.identity.cell_name,
      domain: cfg.identity.domain,
      peerName: row.name,
      privateKey: secrets.private_key ?? undefined,
      address: row.address,
      dns: cfg.identity.vpn_address.split('/')[0]!,
      routing: row.routing,
      vpnNetwork: vpnNetwork(cfg.identity.vpn_address),
      cellNetwork: host.cellNetwork,
      serverPublicKey: server.publicKey,
      presharedKey: secrets.preshared_key,
      endpointHost: cfg.network.endpoint_host || this.#d.guessEndpoint(),
      endpointPort: host.wgPort,
    }).output;
    const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return {
      config: text,
      qr: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`,
      has_private_key: secrets.private_key !== null,
    };
  }

  /** The cell network and the port peers dial, with the host's .env overrides applied. */
  #host(): { cellNetwork: string; wgPort: number } {
    const cfg = this.#d.config.get();
    return this.#d.hostFacts?.(cfg) ?? { cellNetwork: cfg.identity.ip_range, wgPort: cfg.identity.wg_port };
  }

  /** Peers that get a tunnel now: enabled and not past their expiry. */
  #active(rows: PeerRow[]): PeerRow[] {
    const now = this.#now();
    return rows.filter((p) => p.enabled && (p.expires_at === null || Date.parse(p.expires_at) > now));
  }

  /** The server config and the firewall for the stored peers (pure: rendering only). */
  render(): {
    server: ServerConfInput;
    serverConf: string;
    firewall: FirewallModel;
    warnings: Warning[];
    live: Set<string>;
  } {
    const cfg = this.#d.config.get();
    const rows = this.#active(this.#d.store.list());
    const secrets = this.#d.store.allSecrets();
    const input: ServerConfInput = {
      privateKey: this.#d.serverKey().privateKey,
      peers: rows.map((p) => ({
        name: p.name,
        publicKey: p.public_key,
        presharedKey: secrets.get(p.id)!.preshared_key,
        address: p.address,
      })),
    };
    const server = renderServerConf(input);
    const firewall: FirewallModel = {
      iface: 'wg0',
      outIface: 'eth0',
      vpnAddress: cfg.identity.vpn_address,
      cellNetwork: this.#host().cellNetwork,
      peers: rows.map((p) => ({
        name: p.name,
        address: p.address,
        services: p.services,
        internet: p.internet,
        peer_to_peer: p.peer_to_peer,
      })),
    };
    return {
      server: input,
      serverConf: server.output,
      firewall,
      warnings: server.warnings,
      live: new Set(rows.map((p) => p.address)),
    };
  }

  /** Applies the stored state to the data plane; one apply at a time, in order. */
  apply(): Promise<ApplyResult> {
    const run = this.#chain.then(() => this.#apply());
    this.#chain = run.catch(() => undefined);
    return run;
  }

  get pending(): boolean {
    const r = this.render();
    return this.#appliedHash !== hashOf(r.serverConf, r.firewall);
  }

  async #apply(): Promise<ApplyResult> {
    const r = this.render();
    if (!(await this.#d.wireguard.running()))
      return { applied: false, data_plane: 'not_running', warnings: r.warnings };
    try {
      await this.#d.wireguard.apply(r.server, r.firewall);
    } catch (err) {
      this.#appliedHash = undefined;
      throw new AppError(
        'unavailable',
        'WireGuard could not apply the peers; the change is stored and will be retried',
        {
          cause: err,
        },
      );
    }
    this.#appliedHash = hashOf(r.serverConf, r.firewall);
    this.#d.store.releaseHolds(r.live);
    return { applied: true, data_plane: 'running', warnings: r.warnings };
  }

  /** The background step: expire peers, apply what is pending, sample traffic. Never throws. */
  async tick(opts: { sample?: boolean } = {}): Promise<void> {
    try {
      const now = this.#now();
      for (const p of this.#d.store.list())
        if (p.enabled && p.expires_at !== null && Date.parse(p.expires_at) <= now)
          this.#d.store.update(p.id, { enabled: false });
      const wg = this.#d.wireguard;
      if (await wg.running()) {
        // Pending changes, or a restarted cell-wireguard (its firewall is gone): apply again.
        if (this.pending || !(await wg.loaded())) await this.apply();
      }
      if (opts.sample !== false && now - this.#lastSample >= SAMPLE_EVERY_MS) {
        this.#lastSample = now;
        await this.sample();
      }
    } catch (err) {
      this.#d.onError?.('peers tick', err);
    }
  }

  /** One traffic sample per peer from `wg show wg0 dump` into the time series; prunes old samples. */
  async sample(): Promise<void> {
    const dump = await this.#d.wireguard.dump();
    if (!dump) return;
    const byKey = new Map(this.#d.store.list().map((p) => [p.public_key, p.id]));
    const ts = this.#now();
    this.#d.store.addSamples(
      dump.peers.flatMap((s) => {
        const peerId = byKey.get(s.publicKey);
        return peerId === undefined
          ? []
          : [{ peerId, ts, rx: s.rx, tx: s.tx, handshake: s.latestHandshake || null }];
      }),
    );
    this.#d.store.pruneTraffic(ts - TRAFFIC_RETENTION_MS);
  }

  traffic(name: string, since?: string): Array<{ ts: string; rx: number; tx: number }> {
    const row = this.#row(name);
    const from = since ? Date.parse(since) : this.#now() - 3600_000;
    return this.#d.store
      .traffic(row.id, from)
      .map((s) => ({ ts: new Date(s.ts).toISOString(), rx: s.rx, tx: s.tx }));
  }

  async status(): Promise<WireguardStatus> {
    const cfg = this.#d.config.get();
    const running = await this.#d.wireguard.running();
    const dump = running ? await this.#d.wireguard.dump() : undefined;
    const live = new Map((dump?.peers ?? []).map((p) => [p.publicKey, p]));
    const now = this.#now();
    return {
      interface: 'wg0',
      running,
      pending: this.pending,
      public_key: this.#d.serverKey().publicKey,
      address: cfg.identity.vpn_address,
      listen_port: dump?.listenPort ?? cfg.identity.wg_port,
      endpoint: `${cfg.network.endpoint_host || this.#d.guessEndpoint()}:${this.#host().wgPort}`,
      peers: this.#d.store.list().map((p) => {
        const s = live.get(p.public_key);
        return {
          name: p.name,
          address: p.address,
          public_key: p.public_key,
          enabled: p.enabled,
          connected: s !== undefined,
          endpoint: s?.endpoint ?? null,
          latest_handshake: s?.latestHandshake ? new Date(s.latestHandshake * 1000).toISOString() : null,
          handshake_age_s: s?.latestHandshake
            ? Math.max(0, Math.round(now / 1000 - s.latestHandshake))
            : null,
          rx: s?.rx ?? 0,
          tx: s?.tx ?? 0,
        };
      }),
    };
  }

  /** A one-time link: the token is returned once and stored only as its SHA-256. */
  createLink(name: string, minutes = 60): { token: string; expires_at: string } {
    const row = this.#row(name);
    const token = randomBytes(24).toString('base64url');
    const expires = this.#now() + minutes * 60_000;
    this.#d.store.addLink(sha256(token), row.id, expires);
    return { token, expires_at: new Date(expires).toISOString() };
  }

  async redeemLink(token: string, source: string): Promise<{ name: string; config: string }> {
    const wait = this.linkFetches.retryAfter(source);
    if (wait > 0)
      throw new AppError('rate_limited', 'Too many config link requests; try again later', {
        retryAfter: wait,
      });
    this.linkFetches.hit(source);
    const peerId = this.#d.store.takeLink(sha256(token), this.#now());
    const row = peerId === undefined ? undefined : this.#d.store.list().find((p) => p.id === peerId);
    if (!row) throw new AppError('not_found', 'This config link is unknown, used or expired');
    return { name: row.name, config: (await this.exportConfig(row.name)).config };
  }
}

export interface WireguardStatus {
  interface: string;
  running: boolean;
  pending: boolean;
  public_key: string;
  address: string;
  listen_port: number;
  endpoint: string;
  peers: Array<{
    name: string;
    address: string;
    public_key: string;
    enabled: boolean;
    connected: boolean;
    endpoint: string | null;
    latest_handshake: string | null;
    handshake_age_s: number | null;
    rx: number;
    tx: number;
  }>;
}

export type { WgDump };

function hashOf(serverConf: string, firewall: FirewallModel): string {
  return sha256(serverConf + JSON.stringify(firewall));
}

function fieldConflict(field: string, message: string): AppError {
  return new AppError('conflict', message, { fields: [{ field, message }] });
}

function view(p: PeerRow): PeerView {
  return {
    name: p.name,
    address: p.address,
    public_key: p.public_key,
    has_private_key: p.has_private_key,
    routing: p.routing,
    services: p.services,
    internet: p.internet,
    peer_to_peer: p.peer_to_peer,
    enabled: p.enabled,
    expires_at: p.expires_at,
    account: p.account,
    created_at: p.created_at,
    updated_at: p.updated_at,
  };
}
