// The certificate the cell serves for its names, per domain mode (ADR 0012, ADR 0019): local → the
// cell's CA (ADR 0016); pic_ngo and custom → an ACME certificate for <domain> and *.<domain>, proved
// by DNS-01 through the DDNS provider's TXT records, or for <domain> alone by HTTP-01 when the
// provider has none. Orders run one at a time; renewal is the tick's, backing off after an error; a
// domain change waits in the config's pending step until its certificate is here (prepareApply).
// Nothing is contacted in local mode. Meanwhile a public mode serves a self-signed certificate for
// its names: the cell's CA vouches only for `.cell` names and private addresses (ADR 0016).
import type { CellConfig, DomainMode } from '../../schema/config.ts';
import {
  LETS_ENCRYPT_DIRECTORY,
  type TlsSettingsBody,
  type TlsSettingsView,
  type TlsStatus,
} from '../../schema/tls.ts';
import type { AuditService } from '../audit-service.ts';
import type { PendingChange } from '../config-service.ts';
import type { PublishResult } from '../ddns/provider.ts';
import { AppError } from '../errors.ts';
import type { AcmeChallenge, AcmeChallengeType, AcmePort } from '../ports/acme.ts';
import type { Clock } from '../ports/clock.ts';
import type { TlsFiles } from '../ports/tls-files.ts';
import type { FallbackCertificate } from '../vault/fallback-certificate.ts';
import type { ServerCertificate } from '../vault/vault-service.ts';
import { parseBundle, type TlsBundle } from './tls-bundle.ts';
import {
  backoffMs,
  challengeFor,
  cleanError,
  covers,
  isAcmeMode,
  namesFor,
  nextOrderAt,
  renewalDue,
} from './tls-policy.ts';
import type { TlsRepository, TlsState } from './tls-repository.ts';

/** What Caddy serves for the cell's names: the seam its wiring calls (certificateFor). */
export interface ServedCertificate {
  source: 'local' | 'acme';
  /** An ACME mode with no certificate yet: a self-signed certificate for its names serves meanwhile. */
  fallback: boolean;
  domain: string;
  names: string[];
  certPem: string;
  /** Intermediates after the leaf, PEM. */
  chainPem: string;
  keyPem: string;
  notAfter: string;
}

export interface Identity {
  domain_mode: DomainMode;
  domain: string;
}

export interface TlsServiceDeps {
  repo: TlsRepository;
  files: TlsFiles;
  acme: AcmePort;
  /** The DDNS provider's TXT records (DdnsService). */
  dns: {
    setTxt(name: string, value: string): Promise<PublishResult>;
    removeTxt(name: string, value: string): Promise<PublishResult>;
    txtProvider(): { provider: string | null; supportsTxt: boolean };
  };
  vault: {
    serverCertificate(names: string[]): Promise<ServerCertificate>;
    fallbackCertificate(names: string[]): Promise<FallbackCertificate>;
  };
  /** The identity being served (the applied config), not a pending one. */
  applied: () => Identity;
  /**
   * The names of the installed store services relative to the zone (`mail`, `calendar`...): an
   * HTTP-01 order carries each of them (a DNS-01 wildcard covers them already).
   */
  serviceNames?: () => string[];
  clock: Clock;
  audit?: Pick<AuditService, 'record'>;
  log?: (level: 'info' | 'warn', fields: Record<string, unknown>, msg: string) => void;
  /** How long an apply waits for its certificate (default 150 s); the order itself goes on. */
  applyTimeoutMs?: number;
  /** Wait after publishing a TXT record before the CA is told to look (default 15 s). */
  dnsPropagationMs?: number;
}

/** The least time between two orders the tick starts. */
const MIN_REORDER_MS = 60 * 60_000;
const DOMAIN_FIELDS = new Set(['identity.domain_mode', 'identity.domain', 'identity.cell_name']);
const bundleName = (domain: string) => `acme-${domain}.pem` as const;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export class TlsService {
  readonly #d: TlsServiceDeps;
  readonly #listeners: Array<() => void> = [];
  /** HTTP-01 key authorizations by token while an order is being validated. */
  readonly #http01 = new Map<string, string>();
  #running: Promise<TlsBundle> | undefined;
  #progress: string | null = null;

  constructor(deps: TlsServiceDeps) {
    this.#d = deps;
  }

  /** Called after a new ACME certificate is stored (a renewal): Caddy's wiring loads certificateFor again. */
  onCertificate(fn: () => void): void {
    this.#listeners.push(fn);
  }

  /** The seam for Caddy: what to serve for this identity (the target config's, during an apply). */
  async certificateFor(id: Identity): Promise<ServedCertificate> {
    if (isAcmeMode(id.domain_mode)) {
      const b = this.#bundle(id.domain);
      if (b) return { source: 'acme', fallback: false, domain: id.domain, ...b.served };
    }
    const names = namesFor(id.domain, 'local');
    const fallback = isAcmeMode(id.domain_mode);
    // The CA's name constraints leave the public domain out: self-signed until ACME delivers.
    const c = fallback
      ? await this.#d.vault.fallbackCertificate(names)
      : await this.#d.vault.serverCertificate(names);
    return {
      source: 'local',
      fallback,
      domain: id.domain,
      names,
      certPem: c.certPem,
      chainPem: c.chainPem,
      keyPem: c.keyPem,
      notAfter: c.notAfter,
    };
  }

  certificate(): Promise<ServedCertificate> {
    return this.certificateFor(this.#d.applied());
  }

  /**
   * The roots the owner trusts for a private ACME CA (`directory_ca`, PEM; empty when none): for the
   * directory's HTTPS, and to find the root its certificates chain to (chain-root.ts).
   */
  directoryRoots(): string {
    return this.#d.files.read('directory-ca.pem') ?? '';
  }

  settings(): TlsSettingsView {
    const s = this.#d.repo.get().settings;
    const p = this.#d.dns.txtProvider();
    return {
      directory_url: s.directoryUrl ?? LETS_ENCRYPT_DIRECTORY,
      lets_encrypt: (s.directoryUrl ?? LETS_ENCRYPT_DIRECTORY) === LETS_ENCRYPT_DIRECTORY,
      directory_ca: this.#d.files.read('directory-ca.pem') ?? null,
      email: s.email,
      eab_kid: s.eabKid,
      eab_hmac_set: this.#d.files.read('eab-hmac') !== undefined,
      challenge: s.challenge,
      effective_challenge: challengeFor(s.challenge, p.supportsTxt),
      dns_provider: p.provider,
      dns_provider_supports_txt: p.supportsTxt,
    };
  }

  /** Stores the ACME settings; they are used by the next order (nothing is contacted here). */
  configure(body: TlsSettingsBody): TlsSettingsView {
    const old = this.#d.repo.get().settings;
    const eabKid = body.eab_kid === undefined ? old.eabKid : body.eab_kid;
    if (eabKid && body.eab_hmac === undefined && !this.#d.files.read('eab-hmac'))
      throw new AppError('validation_failed', 'Invalid eab_hmac', {
        fields: [{ field: 'eab_hmac', message: 'is required with eab_kid' }],
      });
    if (body.eab_hmac !== undefined) this.#d.files.write('eab-hmac', body.eab_hmac);
    if (body.directory_ca === null) this.#d.files.remove('directory-ca.pem');
    else if (body.directory_ca !== undefined)
      this.#d.files.write('directory-ca.pem', body.directory_ca.replaceAll('\r\n', '\n'));
    if (eabKid === null) this.#d.files.remove('eab-hmac');
    this.#d.repo.saveSettings({
      directoryUrl:
        body.directory_url === undefined
          ? old.directoryUrl
          : body.directory_url === LETS_ENCRYPT_DIRECTORY
            ? null
            : body.directory_url,
      email: body.email === undefined ? old.email : body.email,
      eabKid,
      challenge: body.challenge ?? old.challenge,
    });
    // New settings: the next tick may try again at once.
    const st = this.#d.repo.get().state;
    this.#d.repo.saveState({ ...st, failures: 0, nextAttemptAt: null });
    return this.settings();
  }

  async status(): Promise<TlsStatus> {
    const id = this.#d.applied();
    const st = this.#d.repo.get().state;
    const acme = isAcmeMode(id.domain_mode);
    const b = acme ? this.#bundle(id.domain) : undefined;
    let names: string[];
    let issuer: string | null;
    let notAfter: string | null;
    if (b)
      ({ names, issuer, notAfter } = {
        names: b.served.names,
        issuer: b.issuer,
        notAfter: b.served.notAfter,
      });
    else {
      const c = await this.certificateFor(id);
      const parsed = parseBundle(c.certPem + c.chainPem + c.keyPem);
      ({ names, notAfter } = c);
      issuer = parsed?.issuer ?? null;
    }
    return {
      mode: id.domain_mode,
      domain: id.domain,
      source: b ? 'acme' : 'local',
      fallback: acme && !b,
      names,
      issuer,
      not_after: notAfter,
      last_renewal: st.lastRenewal,
      last_error: st.lastError,
      next_attempt: acme ? this.#nextAttempt(id, b, st) : null,
      in_progress: this.#running !== undefined,
      progress: this.#running ? this.#progress : null,
    };
  }

  /** The key authorization for an HTTP-01 token of an order in progress (GET /.well-known/acme-challenge/:token). */
  challengeAnswer(token: string): string | undefined {
    return this.#http01.get(token);
  }

  /** The core tick: orders when the served ACME certificate is missing or due, unless backing off. */
  async tick(): Promise<void> {
    const id = this.#d.applied();
    if (!isAcmeMode(id.domain_mode) || this.#running) return;
    const st = this.#d.repo.get().state;
    const next = this.#nextAttempt(id, this.#bundle(id.domain), st);
    if (next === null || this.#d.clock.now() < Date.parse(next)) return;
    await this.#order(id.domain, 'renewal').catch(() => {}); // recorded in the state and the log
  }

  /** Renew now (the owner asked): ignores the backoff; waits for the order. */
  async renew(): Promise<TlsStatus> {
    const id = this.#d.applied();
    if (!isAcmeMode(id.domain_mode))
      throw new AppError('conflict', 'In local mode the cell’s own CA renews its certificate by itself');
    try {
      await this.#order(id.domain, 'renew');
    } catch (err) {
      throw new AppError('unavailable', `The certificate could not be renewed: ${this.#message(err)}`);
    }
    return this.status();
  }

  /**
   * The config apply's first step: a change of domain or mode is applied only once the certificate
   * for the new domain is here. Synchronous with a time limit (the order goes on after it: a later
   * apply finds its certificate); a failure keeps the change pending and the old mode serving.
   */
  async prepareApply(target: CellConfig, changes: PendingChange[]): Promise<void> {
    if (!changes.some((c) => DOMAIN_FIELDS.has(c.field))) return;
    const { domain_mode, domain } = target.identity;
    if (!isAcmeMode(domain_mode)) return;
    const b = this.#bundle(domain);
    const want = this.#want(domain);
    if (b && covers(b.served.names, want) && !this.#isDue(b)) return;
    const limit = this.#d.applyTimeoutMs ?? 150_000;
    let timer: unknown;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.#d.clock.setTimer(
        () => reject(new Error(`no certificate after ${Math.round(limit / 1000)} s; the order goes on`)),
        limit,
      );
    });
    try {
      await Promise.race([this.#order(domain, 'apply'), timeout]);
    } catch (err) {
      const now = this.#d.applied();
      throw new AppError(
        'unavailable',
        `No certificate for ${domain}: ${this.#message(err)}. The change stays pending; the cell keeps serving ${now.domain} (${now.domain_mode})`,
      );
    } finally {
      this.#d.clock.clearTimer(timer);
    }
  }

  /** The names an order for `domain` carries now (the challenge, the installed services). */
  #want(domain: string): string[] {
    return namesFor(domain, this.#challenge(), this.#d.serviceNames?.() ?? []);
  }

  #challenge() {
    return challengeFor(this.#d.repo.get().settings.challenge, this.#d.dns.txtProvider().supportsTxt);
  }

  #isDue(b: TlsBundle) {
    return renewalDue(b.notBefore, Date.parse(b.served.notAfter), this.#d.clock.now());
  }

  #nextAttempt(id: Identity, b: TlsBundle | undefined, st: TlsState): string | null {
    return iso(
      nextOrderAt({
        have: b && {
          names: b.served.names,
          notBefore: b.notBefore,
          notAfter: Date.parse(b.served.notAfter),
        },
        want: this.#want(id.domain),
        now: this.#d.clock.now(),
        failures: st.failures,
        nextAttemptAt: st.nextAttemptAt,
      }),
    );
  }

  #bundle(domain: string): TlsBundle | undefined {
    const text = this.#d.files.read(bundleName(domain));
    return text === undefined ? undefined : parseBundle(text);
  }

  #message(err: unknown): string {
    return cleanError(err instanceof Error ? err.message : String(err), [this.#d.files.read('eab-hmac')]);
  }

  /** One order at a time: a second caller waits for the one running when it is for the same domain. */
  #order(domain: string, why: 'renewal' | 'renew' | 'apply'): Promise<TlsBundle> {
    if (this.#running) return this.#running.then(() => this.#order(domain, why));
    const run = this.#run(domain, why).finally(() => {
      this.#running = undefined;
      this.#progress = null;
    });
    this.#running = run;
    return run;
  }

  async #run(domain: string, why: string): Promise<TlsBundle> {
    const challenge = this.#challenge();
    const names = this.#want(domain);
    try {
      return await this.#attempt(domain, why, challenge, names, false);
    } catch (err) {
      // HTTP-01 proves each service name through the public DNS, which the owner may not point at the
      // cell for every name: the domain itself must not wait on them. When the held certificate is
      // missing or due, the domain alone is ordered; the failure stays recorded (shown, backing off)
      // and the tick tries every name again after the backoff.
      const held = this.#bundle(domain);
      const safe = held && !this.#isDue(held) && covers(held.served.names, [domain]);
      if (challenge !== 'http-01' || names.length === 1 || safe) throw err;
      return this.#attempt(domain, `${why}, the domain alone`, challenge, [domain], true);
    }
  }

  /** One order; `partial`: a fallback for the domain alone, which keeps the failure it follows. */
  async #attempt(
    domain: string,
    why: string,
    challenge: AcmeChallengeType,
    names: string[],
    partial: boolean,
  ): Promise<TlsBundle> {
    const { settings: s } = this.#d.repo.get();
    const directoryUrl = s.directoryUrl ?? LETS_ENCRYPT_DIRECTORY;
    try {
      let accountKeyPem = this.#d.files.read('account.key');
      if (!accountKeyPem) {
        accountKeyPem = await this.#d.acme.newAccountKey();
        this.#d.files.write('account.key', accountKeyPem);
      }
      const hmacKey = this.#d.files.read('eab-hmac')?.trim();
      const directoryCaPem = this.#d.files.read('directory-ca.pem');
      const cert = await this.#d.acme.order({
        directoryUrl,
        ...(directoryCaPem ? { directoryCaPem } : {}),
        accountKeyPem,
        email: s.email,
        ...(s.eabKid && hmacKey ? { eab: { kid: s.eabKid, hmacKey } } : {}),
        names,
        challenge,
        present: (ch) => this.#present(ch),
        cleanup: (ch) => this.#cleanup(ch),
        progress: (step) => {
          this.#progress = step;
        },
      });
      const text = cert.certPem + cert.chainPem + cert.keyPem;
      const bundle = parseBundle(text);
      if (!bundle || !covers(bundle.served.names, names))
        throw new Error('the CA sent a certificate for other names');
      this.#d.files.write(bundleName(domain), text);
      const lastRenewal = new Date(this.#d.clock.now()).toISOString();
      this.#d.repo.saveState(
        partial
          ? { ...this.#d.repo.get().state, lastRenewal }
          : {
              lastRenewal,
              lastError: null,
              failures: 0,
              // The tick orders again at most hourly, even when the CA sent a certificate already due (skew).
              nextAttemptAt: this.#d.clock.now() + MIN_REORDER_MS,
            },
      );
      this.#d.audit?.record({
        source: 'tls',
        action: 'certificate obtained',
        target: domain,
        detail: `${why}, ${challenge}, until ${bundle.served.notAfter}`,
      });
      this.#d.log?.(
        'info',
        { domain, why, challenge, not_after: bundle.served.notAfter },
        'ACME certificate obtained',
      );
      for (const fn of this.#listeners) fn();
      return bundle;
    } catch (err) {
      const message = this.#message(err);
      const st = this.#d.repo.get().state;
      const failures = st.failures + 1;
      this.#d.repo.saveState({
        ...st,
        lastError: message,
        failures,
        nextAttemptAt: this.#d.clock.now() + backoffMs(failures),
      });
      this.#d.audit?.record({
        source: 'tls',
        action: 'certificate order failed',
        target: domain,
        outcome: 'failure',
        detail: message,
      });
      this.#d.log?.('warn', { domain, why, challenge }, `ACME order failed: ${message}`);
      throw new Error(message);
    }
  }

  async #present(ch: AcmeChallenge): Promise<void> {
    if (ch.type === 'http-01') {
      this.#http01.set(ch.token, ch.value);
      return;
    }
    const r = await this.#d.dns.setTxt(`_acme-challenge.${ch.domain}`, ch.value);
    if (r.kind !== 'updated' && r.kind !== 'unchanged')
      throw new Error(`the DNS provider did not publish the TXT record: ${r.message}`);
    const wait = this.#d.dnsPropagationMs ?? 15_000;
    if (wait > 0) await new Promise<void>((resolve) => this.#d.clock.setTimer(resolve, wait));
  }

  async #cleanup(ch: AcmeChallenge): Promise<void> {
    if (ch.type === 'http-01') {
      this.#http01.delete(ch.token);
      return;
    }
    await this.#d.dns.removeTxt(`_acme-challenge.${ch.domain}`, ch.value);
  }
}
