// The cell's DNS use-cases: the owner's records (list, add, remove) and keeping cell-dns in step with
// the zone (cell-zone-model.ts) through the DnsServerPort, one apply at a time, in order. A change made
// while cell-dns does not run (or fails to take it) stays stored and pending; the background tick
// applies it. Peers changes reach here through apply() (PeersApply calls it after each peer change).
import { createHash } from 'node:crypto';
import type { CellZoneInput } from '../../render/unbound/cell-zone.ts';
import type { BlockedDrain } from '../../schema/blocklists.ts';
import type { CellConfig } from '../../schema/config.ts';
import type { DnsRecordView, NewDnsRecord } from '../../schema/dns.ts';
import type { Warning } from '../../schema/warnings.ts';
import { AppError, notFound } from '../errors.ts';
import type { DnsRecordRow, DnsRecordsRepository } from '../ports/dns-records-repository.ts';
import type { BlockedNames, DnsServerPort } from '../ports/dns-server.ts';
import type { UnitOfWork } from '../ports/unit-of-work.ts';
import {
  cellZoneModel,
  coreServiceNames,
  type ServiceName,
  type ServiceZoneRecord,
  type ZonePeer,
} from './cell-zone-model.ts';

export interface DnsApplyView {
  applied: boolean;
  data_plane: 'running' | 'not_running';
  warnings: Warning[];
}

export interface DnsDeps {
  repo: DnsRecordsRepository;
  unitOfWork: UnitOfWork;
  config: { get(): CellConfig };
  /** Every peer; `active`: it has a tunnel now (enabled, not expired) and so a name in the zone. */
  peers: () => ReadonlyArray<ZonePeer & { active: boolean }>;
  /** The cell network the containers really sit on (the .env may override the configuration's). */
  cellNetwork?: (config: CellConfig) => string;
  /** Names of services (default: the core services); the store adds its services' virtual IPs. */
  services?: (cellNetwork: string) => ServiceName[];
  server: DnsServerPort;
  /** The installed store services' own records (their `dns_records` hook), served in every view. */
  serviceRecords?: () => readonly ServiceZoneRecord[];
  /** The blocklists' names (BlocklistService.blocked); absent: no blocklist machinery in cell-dns. */
  blocked?: () => BlockedNames;
  onError?: (what: string, err: unknown) => void;
}

/** Enough for any home zone; keeps a runaway script from growing the zone file without bound. */
export const MAX_RECORDS = 10_000;

const field = (f: string, message: string, code: 'conflict' | 'validation_failed' = 'conflict') =>
  new AppError(code, message, { fields: [{ field: f, message }] });

const view = (r: DnsRecordRow): DnsRecordView => ({
  id: r.id,
  name: r.name,
  type: r.type,
  value: r.value,
  ttl: r.ttl,
});

export class DnsService {
  readonly #d: DnsDeps;
  #chain: Promise<unknown> = Promise.resolve();
  #appliedHash: string | undefined;

  constructor(deps: DnsDeps) {
    this.#d = deps;
  }

  zoneName(): string {
    return this.#d.config.get().identity.domain;
  }

  list(): DnsRecordView[] {
    return this.#d.repo.list().map(view);
  }

  /** The zone and its views as cell-dns should serve them now (reads only). */
  model(): { zone: CellZoneInput; warnings: Warning[] } {
    const cfg = this.#d.config.get();
    const cellNetwork = this.#d.cellNetwork?.(cfg) ?? cfg.identity.ip_range;
    return cellZoneModel({
      zone: cfg.identity.domain,
      vpnAddress: cfg.identity.vpn_address,
      cellNetwork,
      peers: this.#d.peers().filter((p) => p.active),
      services: (this.#d.services ?? coreServiceNames)(cellNetwork),
      records: this.#d.repo.list(),
      serviceRecords: this.#d.serviceRecords?.() ?? [],
    });
  }

  /**
   * Adds a record after the checks only the zone can make: the name inside the zone, not a name of
   * the cell (its own A at @, a service, a peer), not a duplicate, and a CNAME alone at its name.
   */
  async create(input: NewDnsRecord): Promise<DnsRecordView> {
    const name = this.#relative(input.name);
    const row = this.#d.unitOfWork.run(() => {
      const existing = this.#d.repo.list();
      if (existing.length >= MAX_RECORDS) throw new AppError('conflict', `At most ${MAX_RECORDS} records`);
      this.#checkName(name, input.type);
      const same = existing.filter((r) => r.name === name);
      if (same.some((r) => r.type === input.type && r.value === input.value))
        throw field('value', `${name} already has this ${input.type} record`);
      if (input.type === 'CNAME' && same.length)
        throw field('type', `${name} already has records: a CNAME must be the only record of its name`);
      if (same.some((r) => r.type === 'CNAME'))
        throw field('name', `${name} has a CNAME: no other record may share its name`);
      return this.#d.repo.add({ name, type: input.type, value: input.value, ttl: input.ttl });
    });
    await this.apply();
    return view(row);
  }

  async remove(id: number): Promise<void> {
    if (!this.#d.repo.remove(id)) throw notFound(`DNS record ${id}`);
    await this.apply();
  }

  /** Applies the zone to cell-dns; never throws (a failure leaves the change pending for the tick). */
  apply(): Promise<DnsApplyView> {
    const run = this.#chain.then(() => this.#apply());
    this.#chain = run.catch(() => undefined);
    return run;
  }

  get pending(): boolean {
    return this.#appliedHash !== hashOf(this.model().zone, this.#d.blocked?.());
  }

  /** Queries the blocklists answered NXDOMAIN (undefined when cell-dns does not run or answer). */
  async blockedQueries(): Promise<number | undefined> {
    if (!(await this.#d.server.running().catch(() => false))) return undefined;
    return this.#d.server.blockedQueries();
  }

  /** The blocked queries per client since the last drain (undefined when cell-dns does not answer). */
  async blockedCounts(): Promise<BlockedDrain | undefined> {
    if (!this.#d.server.drainBlocked) return undefined;
    if (!(await this.#d.server.running().catch(() => false))) return undefined;
    return this.#d.server.drainBlocked();
  }

  /** The background step: apply what is pending once cell-dns runs. Never throws. */
  async tick(): Promise<void> {
    if (this.pending) await this.apply();
  }

  async #apply(): Promise<DnsApplyView> {
    const { zone, warnings } = this.model();
    try {
      if (!(await this.#d.server.running())) return { applied: false, data_plane: 'not_running', warnings };
      const blocked = this.#d.blocked?.();
      await this.#d.server.apply(zone, blocked);
      this.#appliedHash = hashOf(zone, blocked);
      return { applied: true, data_plane: 'running', warnings };
    } catch (err) {
      this.#appliedHash = undefined;
      this.#d.server.reset();
      this.#d.onError?.('dns apply', err);
      return { applied: false, data_plane: 'running', warnings };
    }
  }

  /** `www`, `@`, or an absolute name inside the zone made relative; anything else is refused. */
  #relative(name: string): string {
    const zone = this.zoneName();
    const abs = name.endsWith('.');
    const n = abs ? name.slice(0, -1) : name;
    if (n === zone) return '@';
    if (n.endsWith(`.${zone}`)) return n.slice(0, -zone.length - 1);
    if (abs) throw field('name', `must be inside the zone ${zone}`, 'validation_failed');
    if (n.length + zone.length + 1 > 253)
      throw field('name', `is too long inside ${zone} (at most 253 characters)`, 'validation_failed');
    return n;
  }

  #checkName(name: string, type: string): void {
    if (name === '@') {
      if (['A', 'AAAA', 'CNAME'].includes(type))
        throw field(
          'name',
          `@ is the cell's own name (${this.zoneName()}): it may hold TXT, MX or SRV records`,
        );
      return;
    }
    const cfg = this.#d.config.get();
    const cellNetwork = this.#d.cellNetwork?.(cfg) ?? cfg.identity.ip_range;
    if ((this.#d.services ?? coreServiceNames)(cellNetwork).some((s) => s.name === name))
      throw field('name', `${name} is the name of a service of the cell`);
    // Disabled peers too: their name comes back when they are enabled again.
    if (this.#d.peers().some((p) => p.name === name)) throw field('name', `${name} is the name of a peer`);
  }
}

const hashOf = (zone: CellZoneInput, blocked?: BlockedNames) =>
  createHash('sha256')
    .update(JSON.stringify(zone))
    .update(blocked?.digest ?? '')
    .digest('hex');
