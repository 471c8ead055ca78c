// Certificates a store service keeps in a volume of its own (issue 13, the manifest's `tls`): before
// each first start of its containers (install, resume, reinstall) and whenever its certificate is
// renewed or the cell's domain changes, the store writes `ca.pem` and, with `certificate: true`,
// `fullchain.pem` and `privkey.pem` (0600) for the service's names (`dns_names` and route subdomains
// under the cell's domain), owned by the container's numeric user (else root), then runs `reload` in
// the running container. Where the certificate comes from, by domain mode:
//   local    a leaf of its own from the cell's CA (VaultService.issue), never the front door's key;
//            ca.pem is the CA's root.
//   public   the cell's ACME certificate when it covers the names (a wildcard does); ca.pem is the
//            root its chain ends in. The cell's CA may not sign a public name (its name constraints,
//            ADR 0016), so when the ACME certificate does not cover them (HTTP-01: the apex only; or
//            none yet) only ca.pem is written and the tick tries again once one does.
// Renewal is the store tick's: SERVER_RENEW_DAYS before the end, or at once when the domain, the
// names or (public) the served certificate changed.

import type { ServiceManifest } from '../../schema/service-manifest.ts';
import type { HookLimits, HookRunner } from '../ports/service-accounts.ts';
import type {
  ServiceFile,
  ServiceFilesPort,
  ServiceTlsRepository,
  ServiceTlsState,
} from '../ports/service-hooks.ts';
import { cleanError } from '../tls/tls-policy.ts';
import { SERVER_DAYS, SERVER_RENEW_DAYS } from '../vault/vault-service.ts';
import { type HookTargets, hookFailure, ownNames } from './hook-targets.ts';

const DAY_MS = 86_400_000;
/** How long a failed renewal waits before the tick tries again. */
export const RETRY_MS = 300_000;
export const RELOAD_LIMITS: HookLimits = { timeoutMs: 30_000, maxBytes: 64 * 1024 };

/** A certificate with its key and chain, PEM. */
export interface CertAndKey {
  certPem: string;
  /** Intermediates after the leaf. */
  chainPem: string;
  keyPem: string;
  notAfter: string;
}

export interface ServiceTlsDeps {
  files: ServiceFilesPort;
  repo: ServiceTlsRepository;
  targets: HookTargets;
  hooks: HookRunner;
  cell: {
    domain(): string;
    /** A public domain mode (pic_ngo, custom): ACME serves the cell's names. */
    isPublic(): boolean;
    /** The cell CA's root, PEM. */
    caRoot(): Promise<string>;
    /** A new leaf of the cell's CA for these names (local mode). */
    issue(names: string[], days: number): Promise<CertAndKey>;
    /**
     * The ACME certificate the cell serves (public modes), its names, and the root its chain ends in;
     * undefined while there is none (the self-signed stand-in serves).
     */
    acme(): Promise<(CertAndKey & { names: string[]; rootPem: string }) | undefined>;
  };
  now?: () => Date;
  log?: (level: 'info' | 'warn', fields: Record<string, unknown>, msg: string) => void;
}

/** Whether a certificate's names cover `name` (a wildcard covers one label). */
export function coversName(have: readonly string[], name: string): boolean {
  if (have.includes(name)) return true;
  const dot = name.indexOf('.');
  return dot > 0 && have.includes(`*${name.slice(dot)}`);
}

/** A manifest `user` of `uid[:gid]` by number; anything else (a name, none) is root. */
export function ownerOf(user: string | undefined): { uid: number; gid: number } {
  const m = user === undefined ? null : /^(\d{1,10})(?::(\d{1,10}))?$/.exec(user);
  if (!m) return { uid: 0, gid: 0 };
  const uid = Number(m[1]);
  return { uid, gid: m[2] === undefined ? uid : Number(m[2]) };
}

export class ServiceTls {
  readonly #d: ServiceTlsDeps;
  /** One write at a time per service. */
  readonly #queues = new Map<string, Promise<unknown>>();
  /** After a failed renewal, the next try waits (each try may start a helper container). */
  readonly #retryAt = new Map<string, number>();

  constructor(deps: ServiceTlsDeps) {
    this.#d = deps;
  }

  #now(): Date {
    return this.#d.now?.() ?? new Date();
  }

  /** The absolute names the service's certificate carries. */
  names(m: ServiceManifest): string[] {
    const domain = this.#d.cell.domain();
    return ownNames(m).map((n) => `${n}.${domain}`);
  }

  /** Before its containers start: the files, fresh (no reload: nothing runs yet). Throws on failure. */
  beforeStart(m: ServiceManifest): Promise<void> {
    if (!m.tls) return Promise.resolve();
    return this.#serial(m.id, () => this.#write(m));
  }

  /** The store's periodic step: renews what is due, then reloads it. Never throws. */
  async tick(): Promise<void> {
    for (const t of this.#d.targets.all()) {
      const m = t.manifest;
      if (!m.tls) continue;
      if ((this.#retryAt.get(m.id) ?? 0) > this.#now().getTime()) continue;
      try {
        if (!(await this.#due(m))) continue;
        await this.#serial(m.id, async () => {
          await this.#write(m);
          await this.#reload(m);
        });
        this.#retryAt.delete(m.id);
      } catch (err) {
        this.#retryAt.set(m.id, this.#now().getTime() + RETRY_MS);
        this.#d.log?.(
          'warn',
          { service: m.id, err: cleanError((err as Error).message) },
          'renewing a store service certificate failed',
        );
      }
    }
  }

  removed(id: string): void {
    this.#d.repo.remove(id);
  }

  async #due(m: ServiceManifest): Promise<boolean> {
    const st = this.#d.repo.get(m.id);
    if (!st) return true;
    const domain = this.#d.cell.domain();
    if (st.domain !== domain) return true;
    if (!m.tls!.certificate) return false;
    const names = this.names(m);
    if (names.length !== st.names.length || names.some((n) => !st.names.includes(n))) return true;
    if (this.#d.cell.isPublic()) {
      const acme = await this.#d.cell.acme();
      // Waiting for a certificate that covers the names, or a renewed one to copy.
      if (st.source !== 'acme') return acme !== undefined && names.every((n) => coversName(acme.names, n));
      return acme !== undefined && acme.notAfter !== st.notAfter;
    }
    if (st.source !== 'local' || !st.notAfter) return true;
    return Date.parse(st.notAfter) - this.#now().getTime() < SERVER_RENEW_DAYS * DAY_MS;
  }

  async #write(m: ServiceManifest): Promise<void> {
    const tls = m.tls!;
    const domain = this.#d.cell.domain();
    const names = this.names(m);
    const files: ServiceFile[] = [];
    let source: ServiceTlsState['source'] = 'none';
    let notAfter: string | null = null;
    if (!this.#d.cell.isPublic()) {
      files.push({ name: 'ca.pem', content: await this.#d.cell.caRoot(), mode: 0o644 });
      if (tls.certificate && names.length > 0) {
        const c = await this.#d.cell.issue(names, SERVER_DAYS);
        files.push(...certFiles(c));
        source = 'local';
        notAfter = c.notAfter;
      }
    } else {
      const acme = await this.#d.cell.acme();
      files.push({ name: 'ca.pem', content: acme?.rootPem ?? (await this.#d.cell.caRoot()), mode: 0o644 });
      if (tls.certificate && names.length > 0) {
        const missing = acme ? names.filter((n) => !coversName(acme.names, n)) : names;
        if (acme && missing.length === 0) {
          files.push(...certFiles(acme));
          source = 'acme';
          notAfter = acme.notAfter;
        } else
          this.#d.log?.(
            'warn',
            { service: m.id, names: missing },
            "the cell's ACME certificate does not cover these names yet: only ca.pem is written (the cell's CA cannot sign a public name)",
          );
      }
    }
    const owner = ownerOf(m.containers.find((c) => c.name === tls.container)?.user);
    await this.#d.files.write(m.id, tls.volume, files, owner);
    this.#d.repo.put({
      serviceId: m.id,
      domain,
      names,
      source,
      notAfter,
      writtenAt: this.#now().toISOString(),
    });
    this.#d.log?.('info', { service: m.id, source, names, notAfter }, 'store service certificate written');
  }

  async #reload(m: ServiceManifest): Promise<void> {
    const tls = m.tls!;
    if (!tls.reload) return;
    const t = this.#d.targets.of(m);
    const r = await this.#d.hooks.run(t.container(tls.container), [...tls.reload], undefined, RELOAD_LIMITS);
    if (r.exitCode !== 0) throw new Error(`its reload hook failed: ${hookFailure(r)}`);
  }

  #serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#queues.get(id) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.#queues.set(id, next);
    return next;
  }
}

function certFiles(c: CertAndKey): ServiceFile[] {
  const nl = (s: string) => (s.endsWith('\n') ? s : `${s}\n`);
  return [
    { name: 'fullchain.pem', content: nl(c.certPem) + c.chainPem, mode: 0o644 },
    { name: 'privkey.pem', content: nl(c.keyPem), mode: 0o600 },
  ];
}
