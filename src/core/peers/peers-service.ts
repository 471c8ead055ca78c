// The peer use-cases behind one object for the API and the CLI: CRUD (peers-crud.ts), keeping the data
// plane in step and sampling traffic (peers-apply.ts), configs and one-time links (peer-configs.ts),
// and the interface status (wireguard-status.ts). Every port is a constructor dependency.
import type { CellConfig } from '../../schema/config.ts';
import type { CreatePeerInput, PeerView, UpdatePeerInput } from '../../schema/peers.ts';
import { PEER_SERVICES } from '../../schema/peers-services.ts';
import type { StoreRouteFact, StoreServiceFact } from '../../schema/store-sites.ts';
import type { WireguardStatus } from '../../schema/wireguard-status.ts';
import type { PasswordHasher } from '../auth/password.ts';
import type { UnitOfWork } from '../ports/unit-of-work.ts';
import type { EndpointPort } from './endpoint-port.ts';
import type { KeyPair } from './keys.ts';
import { PeerConfigs } from './peer-configs.ts';
import { isActive } from './peer-lookup.ts';
import { type ApplyResult, PeersApply, type PeersDnsPort, type PeersModel } from './peers-apply.ts';
import { installedServiceIds, type PeersContext } from './peers-context.ts';
import { type CreatedPeer, PeersCrud } from './peers-crud.ts';
import type { PeerLogins, PeersRepository } from './peers-repository.ts';
import type { WireguardPort } from './wireguard-port.ts';
import { WireguardStatusReader } from './wireguard-status.ts';

export type { ApplyResult, CreatedPeer };

export interface PeersDeps {
  repo: PeersRepository;
  /** The users store, seen through the one narrow port peers need (a peer's own login). */
  logins: PeerLogins;
  unitOfWork: UnitOfWork;
  /** Argon2 with the cell's one concurrency cap (a peer's login password). */
  hasher: PasswordHasher;
  config: { get(): CellConfig };
  /** The data plane (NO_WIREGUARD when none: peers are stored and applied once one runs). */
  wireguard: WireguardPort;
  /** The cell's DNS (peers' names, per-peer views); none: names are not kept. */
  dns?: PeersDnsPort;
  serverKey: () => KeyPair;
  endpoint: EndpointPort;
  hostFacts?: (config: CellConfig) => { cellNetwork: string; wgPort: number };
  now?: () => number;
  /** The installed store services' routes (InstalledServicesPort.routes); none: core services only. */
  installed?: () => readonly StoreRouteFact[];
  /** Their names and host ports (InstalledServicesPort.services). */
  installedServices?: () => readonly StoreServiceFact[];
  onError?: (what: string, err: unknown) => void;
  /** After a peer is removed (its accounts on the store's services go too). */
  onRemoved?: (name: string) => void;
}

export class PeersService {
  readonly crud: PeersCrud;
  readonly applier: PeersApply;
  readonly configs: PeerConfigs;
  readonly wireguard: WireguardStatusReader;
  readonly #repo: PeersRepository;
  readonly #now: () => number;
  readonly #onRemoved: ((name: string) => void) | undefined;
  readonly #ctx: PeersContext;

  constructor(d: PeersDeps) {
    this.#repo = d.repo;
    this.#now = d.now ?? Date.now;
    this.#onRemoved = d.onRemoved;
    const ctx: PeersContext = {
      repo: d.repo,
      config: d.config,
      serverKey: d.serverKey,
      endpoint: d.endpoint,
      hostFacts: d.hostFacts,
      now: d.now ?? Date.now,
      installed: d.installed,
      installedServices: d.installedServices,
    };
    this.#ctx = ctx;
    this.applier = new PeersApply(ctx, d.wireguard, d.onError, d.dns);
    this.configs = new PeerConfigs(ctx);
    this.crud = new PeersCrud(ctx, d.logins, d.unitOfWork, this.applier, this.configs, d.hasher);
    this.wireguard = new WireguardStatusReader(ctx, d.wireguard, this.applier);
  }

  list(): PeerView[] {
    return this.crud.list();
  }
  /** What a peer may be granted now: the core services, then each installed store service by id. */
  grantable(): Array<{ id: string; label: string; store: boolean }> {
    return [
      ...PEER_SERVICES.map((s) => ({ id: s.id, label: s.label, store: false })),
      ...installedServiceIds(this.#ctx).map((id) => ({ id, label: id, store: true })),
    ];
  }
  get(name: string): PeerView {
    return this.crud.get(name);
  }
  create(input: CreatePeerInput): Promise<CreatedPeer> {
    return this.crud.create(input);
  }
  update(name: string, patch: UpdatePeerInput): Promise<{ peer: PeerView; apply: ApplyResult }> {
    return this.crud.update(name, patch);
  }
  async remove(name: string): Promise<ApplyResult> {
    const result = await this.crud.remove(name);
    this.#onRemoved?.(name);
    return result;
  }
  /**
   * Whether the login named `username` belongs to a peer that is disabled or expired (its login and
   * its sessions are refused). A login with no peer of its name is not a peer's: false.
   */
  /** Whether an enabled, unexpired peer holds this VPN address (logins from it keep their own budget). */
  activeAddress(address: string): boolean {
    const now = this.#now();
    return this.#repo.list().some((r) => r.address === address && isActive(r, now));
  }

  accountDisabled(username: string): boolean {
    const row = this.#repo.byName(username);
    return row !== undefined && !isActive(row, this.#now());
  }
  exportConfig(name: string): { config: string; has_private_key: boolean } {
    return this.configs.exportConfig(name);
  }
  createLink(name: string, minutes?: number): { token: string; expires_at: string } {
    return this.configs.createLink(name, minutes);
  }
  redeemLink(token: string, source: string): { name: string; config: string } {
    return this.configs.redeemLink(token, source);
  }
  render(): PeersModel & { serverConf: string } {
    return this.applier.render();
  }
  apply(): Promise<ApplyResult> {
    return this.applier.apply();
  }
  applyInFull(): Promise<ApplyResult> {
    return this.applier.applyInFull();
  }
  tick(opts?: { sample?: boolean }): Promise<void> {
    return this.applier.tick(opts);
  }
  sample(): Promise<void> {
    return this.applier.sample();
  }
  traffic(name: string, since?: string): Array<{ ts: string; rx: number; tx: number }> {
    return this.applier.traffic(name, since);
  }
  status(): Promise<WireguardStatus> {
    return this.wireguard.status();
  }
}
