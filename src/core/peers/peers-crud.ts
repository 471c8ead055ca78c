// Creating, changing and removing peers. Every change is stored first (one unit of work when it spans
// rows), then applied live through PeersApply; the answer says whether the data plane took it.
import { vpnNetwork } from '../../schema/config.ts';
import type { CreatePeerInput, PeerView, UpdatePeerInput } from '../../schema/peers.ts';
import { PEER_SERVICE_IDS } from '../../schema/peers-services.ts';
import { type PasswordHasher, randomPassword } from '../auth/password.ts';
import { AppError } from '../errors.ts';
import type { UnitOfWork } from '../ports/unit-of-work.ts';
import { allocateAddress } from './allocate.ts';
import { generateKeyPair, generatePresharedKey } from './keys.ts';
import type { PeerConfigs } from './peer-configs.ts';
import { fieldConflict, peerRow, peerView } from './peer-lookup.ts';
import type { ApplyResult, PeersApply } from './peers-apply.ts';
import { installedServiceIds, type PeersContext } from './peers-context.ts';
import type { PeerLogins } from './peers-repository.ts';

export interface CreatedPeer {
  peer: PeerView;
  /** The wg-quick config (its QR code is made by whoever shows it, when asked). */
  config: string;
  /** The generated login password, present only in this answer and only when none was supplied. */
  password?: string;
  apply: ApplyResult;
}

export class PeersCrud {
  readonly #c: PeersContext;
  readonly #logins: PeerLogins;
  readonly #uow: UnitOfWork;
  readonly #apply: PeersApply;
  readonly #configs: PeerConfigs;
  readonly #hasher: PasswordHasher;

  constructor(
    ctx: PeersContext,
    logins: PeerLogins,
    uow: UnitOfWork,
    apply: PeersApply,
    configs: PeerConfigs,
    hasher: PasswordHasher,
  ) {
    this.#hasher = hasher;
    this.#c = ctx;
    this.#logins = logins;
    this.#uow = uow;
    this.#apply = apply;
    this.#configs = configs;
  }

  list(): PeerView[] {
    return this.#c.repo.list().map(peerView);
  }

  get(name: string): PeerView {
    return peerView(peerRow(this.#c.repo, name));
  }

  async create(input: CreatePeerInput): Promise<CreatedPeer> {
    const { repo } = this.#c;
    const logins = this.#logins;
    const withAccount = input.create_account ?? true;
    if (repo.byName(input.name)) throw fieldConflict('name', `A peer named ${input.name} already exists`);
    if (input.public_key) this.#checkKeyFree(input.public_key);
    if (input.services) this.#checkServices(input.services, []);
    if (withAccount && logins.byUsername(input.name))
      throw fieldConflict('name', `A login named ${input.name} already exists; pass create_account: false`);
    if (!withAccount && input.password)
      throw new AppError('validation_failed', 'Invalid password', {
        fields: [{ field: 'password', message: 'is only used with create_account' }],
      });
    const password = withAccount ? (input.password ?? randomPassword()) : undefined;
    const passwordHash = password ? await this.#hasher.hash(password) : undefined;

    const keys = input.public_key ? undefined : generateKeyPair();
    const routing = input.routing ?? 'split';
    const vpn = this.#c.config.get().identity.vpn_address;
    this.#uow.run(() => {
      // Checked again inside the transaction: two concurrent creates must not share a name or address.
      if (repo.byName(input.name)) throw fieldConflict('name', `A peer named ${input.name} already exists`);
      const address = allocateAddress(vpn, repo.addressesInUse());
      if (!address)
        throw new AppError(
          'range_full',
          `No free address left in the VPN range ${vpnNetwork(vpn)}; remove a peer or widen identity.vpn_address`,
        );
      if (passwordHash) {
        if (logins.byUsername(input.name))
          throw fieldConflict('name', `A login named ${input.name} already exists`);
        logins.insert(input.name, 'peer', passwordHash);
      }
      repo.insert({
        name: input.name,
        address,
        public_key: keys?.publicKey ?? input.public_key!,
        private_key: keys?.privateKey ?? null,
        preshared_key: generatePresharedKey(),
        routing,
        services: input.services ?? [...PEER_SERVICE_IDS],
        internet: input.internet ?? routing === 'full',
        peer_to_peer: input.peer_to_peer ?? false,
        // On by default: with no list added nothing is blocked, and once the owner adds one every
        // device is covered, as Pi-hole covers a whole network (ADR 0020).
        blocklists: input.blocklists ?? true,
        enabled: input.enabled ?? true,
        expires_at: input.expires_at ?? null,
        account: Boolean(passwordHash),
      });
    });
    const apply = await this.#apply.applyStored();
    return {
      peer: this.get(input.name),
      config: this.#configs.exportConfig(input.name).config,
      ...(password && !input.password ? { password } : {}),
      apply,
    };
  }

  /**
   * Each grant is a core service or an installed store service; one the peer already holds stays
   * allowed (a service uninstalled for a while keeps its grants for when it comes back).
   */
  #checkServices(services: readonly string[], held: readonly string[]): void {
    const known = new Set<string>([...PEER_SERVICE_IDS, ...installedServiceIds(this.#c), ...held]);
    const unknown = services.filter((s) => !known.has(s));
    if (unknown.length)
      throw new AppError('validation_failed', 'Unknown service', {
        fields: [{ field: 'services', message: `not a service of the cell: ${unknown.join(', ')}` }],
      });
  }

  #checkKeyFree(key: string, except?: number): void {
    const other = this.#c.repo.byPublicKey(key);
    if ((other && other.id !== except) || key === this.#c.serverKey().publicKey)
      throw fieldConflict('public_key', 'This public key is already used by another peer or the cell');
  }

  async update(name: string, patch: UpdatePeerInput): Promise<{ peer: PeerView; apply: ApplyResult }> {
    const row = peerRow(this.#c.repo, name);
    if (patch.public_key && patch.public_key !== row.public_key) this.#checkKeyFree(patch.public_key, row.id);
    if (patch.services) this.#checkServices(patch.services, row.services);
    this.#c.repo.update(row.id, {
      ...patch,
      // A key the device brought replaces the pair the cell generated: the cell forgets that private key.
      ...(patch.public_key && patch.public_key !== row.public_key ? { private_key: null } : {}),
    });
    return { peer: this.get(name), apply: await this.#apply.applyStored() };
  }

  async remove(name: string): Promise<ApplyResult> {
    const row = peerRow(this.#c.repo, name);
    const { repo } = this.#c;
    this.#uow.run(() => {
      repo.delete(row.id);
      repo.hold(row.address);
      // The peer's login goes with it (its sessions cascade).
      if (row.account && this.#logins.byUsername(name)?.role === 'peer') this.#logins.delete(name);
    });
    return this.#apply.applyStored();
  }
}
