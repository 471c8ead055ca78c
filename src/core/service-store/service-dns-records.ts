// DNS records a store service needs besides its names (issue 13: MX, SPF, DKIM, DMARC): after each
// start of a service with `dns_records`, its `list` hook prints them (bounded in size and time); they
// are checked whole (schema/service-hooks.ts: the DNS records API's rules, `@`/`_`-names/its own names,
// MX/TXT/SRV, at most 32), stored as the service's, and served in the cell's zone in every view, live
// (DnsService.apply). A refused list keeps what was stored and says why in the log; the service runs
// on. Uninstalling removes them. The API lists them with whether the zone serves each and, in the
// public domain modes, whether the cell's own forwarders see the same value at the registrar.
import { checkServiceRecords, type PublicState } from '../../schema/service-hooks.ts';
import type { ServiceManifest } from '../../schema/service-manifest.ts';
import { AppError } from '../errors.ts';
import type { HookLimits, HookRunner } from '../ports/service-accounts.ts';
import type {
  PublicDnsPort,
  ServiceDnsRecordsRepository,
  ServiceRecordType,
} from '../ports/service-hooks.ts';
import { cleanError } from '../tls/tls-policy.ts';
import { type HookTargets, hookFailure } from './hook-targets.ts';

export const LIST_LIMITS: HookLimits = { timeoutMs: 10_000, maxBytes: 64 * 1024 };

export interface ServiceDnsRecordsDeps {
  repo: ServiceDnsRecordsRepository;
  targets: HookTargets;
  hooks: HookRunner;
  zone: {
    /** The cell's domain. */
    domain(): string;
    /** A public domain mode (pic_ngo, custom): the records are checked through the forwarders. */
    isPublic(): boolean;
    /** The cell's configured plain DNS forwarders (the DNS settings); none: unchecked. */
    forwarders(): string[];
    /** The records the zone serves now (after its last apply), relative names. */
    served(): ReadonlyArray<{ name: string; type: string; value: string }>;
    /** Applies the zone to cell-dns (never throws). */
    apply(): Promise<unknown>;
  };
  publicDns: PublicDnsPort;
  log?: (level: 'info' | 'warn', fields: Record<string, unknown>, msg: string) => void;
}

export interface ServiceRecordView {
  name: string;
  fqdn: string;
  type: ServiceRecordType;
  value: string;
  in_zone: boolean;
  public: PublicState;
}

export class ServiceDnsRecords {
  readonly #d: ServiceDnsRecordsDeps;

  constructor(deps: ServiceDnsRecordsDeps) {
    this.#d = deps;
  }

  /** After each start: the hook's records replace the service's, or are refused whole. Never throws. */
  async afterStart(m: ServiceManifest): Promise<void> {
    const hook = m.dns_records;
    if (!hook) return;
    const t = this.#d.targets.of(m);
    const refuse = (why: string) =>
      this.#d.log?.(
        'warn',
        { service: m.id, err: cleanError(why) },
        'the DNS records of a store service were refused; the ones stored before stay',
      );
    let stdout: string;
    try {
      const r = await this.#d.hooks.run(t.container(hook.container), [...hook.list], undefined, LIST_LIMITS);
      if (r.exitCode !== 0) return refuse(`its list hook failed: ${hookFailure(r)}`);
      stdout = r.stdout;
    } catch (err) {
      return refuse(`its list hook could not run: ${(err as Error).message}`);
    }
    const checked = checkServiceRecords(stdout, t.names);
    if (!checked.ok) return refuse(checked.problem);
    this.#d.repo.replace(m.id, checked.records);
    this.#d.log?.(
      'info',
      { service: m.id, records: checked.records.length },
      'store service DNS records stored',
    );
    await this.#d.zone.apply();
  }

  /** At uninstall: the service's records leave the zone. */
  async removed(id: string): Promise<void> {
    if (this.#d.repo.ofService(id).length === 0) return;
    this.#d.repo.remove(id);
    await this.#d.zone.apply();
  }

  async list(id: string): Promise<{ records: ServiceRecordView[] }> {
    const t = await this.#d.targets.running(id);
    if (!t.manifest.dns_records) throw new AppError('conflict', `${id} lists no DNS records`);
    const domain = this.#d.zone.domain();
    const served = this.#d.zone.served();
    const servers = this.#d.zone.isPublic() ? this.#d.zone.forwarders() : [];
    const rows = this.#d.repo.ofService(id);
    const records = await Promise.all(
      rows.map(async (r): Promise<ServiceRecordView> => {
        const fqdn = r.name === '@' ? `${domain}.` : `${r.name}.${domain}.`;
        return {
          name: r.name,
          fqdn,
          type: r.type,
          value: r.value,
          in_zone: served.some((s) => s.name === r.name && s.type === r.type && s.value === r.value),
          public: servers.length
            ? await this.#public(servers, fqdn.slice(0, -1), r.type, r.value)
            : 'unchecked',
        };
      }),
    );
    return { records };
  }

  async #public(
    servers: string[],
    fqdn: string,
    type: ServiceRecordType,
    value: string,
  ): Promise<PublicState> {
    try {
      const answers = await this.#d.publicDns.lookup(servers, fqdn, type);
      if (answers.length === 0) return 'missing';
      return answers.includes(value) ? 'match' : 'differs';
    } catch {
      // No answer in time (or a server error): nothing is known either way.
      return 'unchecked';
    }
  }
}
