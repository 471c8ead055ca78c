// The cell's certificate authority: a root (pathLen 1) and an intermediate made on first use and kept
// in one owner-only file, leaf certificates signed by the intermediate, and a CRL signed by the
// intermediate (the issuer of every leaf, which is the CRL `openssl verify -crl_check` asks for).
// Keys of certificates issued through the API are handed out once and not kept; the cell's own
// HTTPS key (serverCertificate) is kept, because Caddy must load it again after every restart.
// The CA vouches only for `.cell` names and private addresses (ca-scope.ts): new roots carry that as
// name constraints, and every issue is checked against it before anything is signed.
// Design choices: docs/adr/0016-internal-certificate-authority.md.

import {
  type CertificateRecord,
  type CertView,
  certName,
  type IssueCertInput,
  type IssuedCertView,
  type RevokeReason,
} from '../../schema/vault.ts';
import type { AuditService } from '../audit-service.ts';
import { AppError, conflict, invalid, notFound } from '../errors.ts';
import type { UnitOfWork } from '../ports/unit-of-work.ts';
import type { CertificatesRepository, VaultFiles } from '../ports/vault.ts';
import { CA_SCOPE_MESSAGE, outOfScope } from './ca-scope.ts';
import { type FallbackCertificate, fallbackCertificate } from './fallback-certificate.ts';
import {
  type CaNames,
  certPem,
  createCrl,
  createIntermediate,
  createRoot,
  importKeyPair,
  issueLeaf,
  type KeyAndCert,
  parseCert,
  pemBlocks,
  privateKeyPem,
  randomSerial,
} from './x509.ts';

const DAY_MS = 86_400_000;
export const ROOT_DAYS = 3650;
export const INTERMEDIATE_DAYS = 1825;
/** The cell's own HTTPS certificate: 397 days, renewed when fewer than 30 are left. */
export const SERVER_DAYS = 397;
export const SERVER_RENEW_DAYS = 30;
/** A CRL is valid for 7 days and re-signed when fewer than 3 are left (or at once on a revoke). */
export const CRL_DAYS = 7;
const CRL_REFRESH_DAYS = 3;

export interface VaultDeps {
  files: VaultFiles;
  certs: CertificatesRepository;
  unitOfWork: UnitOfWork;
  /** The cell's name, for the CA certificates' subjects. */
  cellName: () => string;
  /** Rows for what happens outside a request (the CA made, the server certificate issued). */
  audit?: Pick<AuditService, 'record'>;
  now?: () => Date;
}

interface Ca {
  root: KeyAndCert;
  intermediate: KeyAndCert;
  rootPem: string;
  /** Intermediate then root: what follows a leaf. */
  chainPem: string;
}

/** What Caddy serves for the cell's internal names. */
export interface ServerCertificate {
  /** The leaf, PEM. */
  certPem: string;
  /** The intermediate then the root, PEM. */
  chainPem: string;
  /** The leaf's PKCS#8 private key, PEM. */
  keyPem: string;
  serial: string;
  notAfter: string;
}

export class VaultService {
  readonly #d: VaultDeps;
  readonly #now: () => Date;
  #ca: Promise<Ca> | undefined;
  /** Revokes, CRL signing and the server certificate run one at a time (a CRL number is used once). */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(deps: VaultDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => new Date());
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Forgets the loaded CA: a restore replaced its files (ADR 0021); the next use loads them. */
  forget(): void {
    this.#ca = undefined;
  }

  /** The CA, loaded from its file or made (once) on first use. */
  ca(): Promise<Ca> {
    if (!this.#ca) {
      this.#ca = this.#loadOrCreate();
      this.#ca.catch(() => {
        this.#ca = undefined;
      });
    }
    return this.#ca;
  }

  async #loadOrCreate(): Promise<Ca> {
    const text = this.#d.files.read('ca.pem');
    if (text !== undefined) return this.#parseCa(text);
    const now = this.#now();
    const tag = randomSerial().slice(0, 6);
    const cell = this.#d.cellName();
    // The tag tells the roots of two installs of the same cell name apart in a device's trust store.
    const names: CaNames = {
      organisation: `PIC ${cell}`,
      root: `PIC ${cell} Root CA ${tag}`,
      intermediate: `PIC ${cell} Intermediate CA ${tag}`,
    };
    const root = await createRoot(names, now, ROOT_DAYS);
    const intermediate = await createIntermediate(root, names, now, INTERMEDIATE_DAYS);
    // One file, one atomic write: a crash leaves no CA or a whole one, never a root without its key.
    // Never over another's: `pic up` and cell-api may both find no CA; the one made first is the CA.
    const made = this.#d.files.create(
      'ca.pem',
      [
        certPem(root.cert),
        certPem(intermediate.cert),
        await privateKeyPem(root.keys.privateKey),
        await privateKeyPem(intermediate.keys.privateKey),
      ].join(''),
    );
    if (!made) {
      const theirs = this.#d.files.read('ca.pem');
      if (theirs === undefined) throw new AppError('internal', 'The CA file could not be created');
      return this.#parseCa(theirs);
    }
    this.#d.audit?.record({
      source: 'vault',
      action: 'certificate authority created',
      target: names.root,
      detail: `root serial ${root.cert.serialNumber}, intermediate serial ${intermediate.cert.serialNumber}`,
    });
    return this.#caOf(root, intermediate);
  }

  async #parseCa(text: string): Promise<Ca> {
    const certs = pemBlocks(text, 'CERTIFICATE');
    const keys = pemBlocks(text, 'PRIVATE KEY');
    if (certs.length !== 2 || keys.length !== 2)
      // Never replaced silently: every device that trusts the old root would stop trusting the cell.
      throw new AppError('internal', 'The CA file is damaged; restore it from a backup');
    const rootCert = parseCert(certs[0]!);
    const interCert = parseCert(certs[1]!);
    const root = { cert: rootCert, keys: await importKeyPair(rootCert, keys[0]!) };
    const intermediate = { cert: interCert, keys: await importKeyPair(interCert, keys[1]!) };
    return this.#caOf(root, intermediate);
  }

  #caOf(root: KeyAndCert, intermediate: KeyAndCert): Ca {
    const rootPem = certPem(root.cert);
    return { root, intermediate, rootPem, chainPem: certPem(intermediate.cert) + rootPem };
  }

  /** The root certificate, PEM: what devices install to trust the cell. */
  async rootPem(): Promise<string> {
    return (await this.ca()).rootPem;
  }

  list(): CertView[] {
    const now = this.#now().toISOString();
    return this.#d.certs.list().map((r) => view(r, now));
  }

  /** Issues a certificate; its private key is in this answer only. */
  async issue(input: IssueCertInput): Promise<IssuedCertView> {
    // Refused before anything is signed: devices would refuse it anyway (the root's name constraints).
    const refused = outsideScope([
      { field: 'common_name', name: input.common_name },
      ...input.sans.map((name, i) => ({ field: `sans.${i}`, name })),
    ]);
    if (refused) throw refused;
    const ca = await this.ca();
    const names = unique([input.common_name, ...input.sans]);
    const leaf = await issueLeaf(
      ca.intermediate,
      { commonName: input.common_name, names, days: input.days, clientAuth: input.client_auth },
      this.#now(),
    );
    const rec = this.#store(leaf.cert, leaf.serial, input.common_name, names, 'issued');
    return {
      id: rec.id,
      serial: rec.serial,
      certificate: rec.certificatePem,
      chain: ca.chainPem,
      private_key: leaf.privateKeyPem,
    };
  }

  #store(
    cert: KeyAndCert['cert'],
    serial: string,
    commonName: string,
    sans: string[],
    purpose: 'issued' | 'server',
  ): CertificateRecord {
    return this.#d.certs.insert({
      serial,
      commonName,
      sans,
      purpose,
      certificatePem: certPem(cert),
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
      createdAt: this.#now().toISOString(),
    });
  }

  /** Revokes a certificate (by id, or by serial) and re-signs the CRL in the same step. */
  revoke(idOrSerial: string, reason: RevokeReason): Promise<CertView> {
    return this.#serial(async () => {
      const rec = /^[1-9][0-9]{0,15}$/.test(idOrSerial)
        ? this.#d.certs.get(Number(idOrSerial))
        : this.#d.certs.bySerial(idOrSerial);
      if (!rec) throw notFound('Certificate');
      const id = rec.id;
      if (rec.revokedAt) throw conflict('The certificate is already revoked');
      const now = this.#now();
      const at = now.toISOString();
      const crl = await this.#signCrl(now, [{ ...rec, revokedAt: at, reason }]);
      // The mark and the CRL that lists it are one change: a crash leaves both or neither.
      this.#d.unitOfWork.run(() => {
        if (!this.#d.certs.revoke(id, at, reason)) throw conflict('The certificate is already revoked');
        this.#d.certs.saveCrl(crl);
      });
      return view({ ...rec, revokedAt: at, reason }, at);
    });
  }

  async #signCrl(now: Date, extra: CertificateRecord[] = []) {
    const ca = await this.ca();
    const listed = [...this.#d.certs.revokedUnexpired(now.toISOString()), ...extra];
    const number = (this.#d.certs.crl()?.number ?? 0) + 1;
    const der = await createCrl(
      ca.intermediate,
      listed.map((r) => ({
        serial: r.serial,
        revokedAt: new Date(r.revokedAt ?? now),
        reason: r.reason ?? 'unspecified',
      })),
      { number, now, days: CRL_DAYS },
    );
    return {
      number,
      thisUpdate: now.toISOString(),
      nextUpdate: new Date(now.getTime() + CRL_DAYS * DAY_MS).toISOString(),
      der,
    };
  }

  /** The current CRL, DER; signed anew when none exists or it is close to its next update. */
  async crlDer(): Promise<Uint8Array> {
    const fresh = (c: { nextUpdate: string } | undefined) =>
      c !== undefined && Date.parse(c.nextUpdate) - this.#now().getTime() > CRL_REFRESH_DAYS * DAY_MS;
    const stored = this.#d.certs.crl();
    if (stored && fresh(stored)) return stored.der;
    return this.#serial(async () => {
      const again = this.#d.certs.crl();
      if (again && fresh(again)) return again.der;
      const crl = await this.#signCrl(this.#now());
      this.#d.certs.saveCrl(crl);
      return crl.der;
    });
  }

  /**
   * The certificate Caddy serves for the cell's internal names (the first is the subject's CN). The
   * same one is returned while it covers exactly these names, is not revoked and has 30 days or
   * more left; otherwise a new one is issued, listed with purpose 'server', and kept (key included)
   * in the vault's owner-only directory.
   */
  serverCertificate(names: string[]): Promise<ServerCertificate> {
    const wanted = unique(names);
    const refused =
      badNames(wanted) ?? outsideScope(wanted.map((name, i) => ({ field: `names.${i}`, name })));
    if (refused) return Promise.reject(refused);
    return this.#serial(async () => {
      const ca = await this.ca();
      const cached = await this.#cachedServer(ca, wanted);
      if (cached) return cached;
      const leaf = await issueLeaf(
        ca.intermediate,
        { commonName: wanted[0]!, names: wanted, days: SERVER_DAYS, clientAuth: false },
        this.#now(),
      );
      const certificatePem = certPem(leaf.cert);
      this.#store(leaf.cert, leaf.serial, wanted[0]!, wanted, 'server');
      this.#d.files.write('server.pem', certificatePem + leaf.privateKeyPem);
      this.#d.audit?.record({
        source: 'vault',
        action: 'server certificate issued',
        target: `cn=${wanted[0]}`,
        detail: `serial ${leaf.serial}, ${wanted.length} names, until ${leaf.cert.notAfter.toISOString()}`,
      });
      return {
        certPem: certificatePem,
        chainPem: ca.chainPem,
        keyPem: leaf.privateKeyPem,
        serial: leaf.serial,
        notAfter: leaf.cert.notAfter.toISOString(),
      };
    });
  }

  /**
   * What a public domain mode serves for its public names until the ACME certificate is here: a
   * self-signed leaf, outside the CA (which may not sign a public name). Kept in `fallback.pem`.
   */
  fallbackCertificate(names: string[]): Promise<FallbackCertificate> {
    const wanted = unique(names);
    const refused = badNames(wanted);
    if (refused) return Promise.reject(refused);
    const d = this.#d;
    return this.#serial(() =>
      fallbackCertificate({ files: d.files, cellName: d.cellName, audit: d.audit, now: this.#now }, wanted),
    );
  }

  async #cachedServer(ca: Ca, wanted: string[]): Promise<ServerCertificate | undefined> {
    const text = this.#d.files.read('server.pem');
    if (text === undefined) return undefined;
    const [der] = pemBlocks(text, 'CERTIFICATE');
    const keyPem = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n?/.exec(text)?.[0];
    if (!der || !keyPem) return undefined;
    const cert = parseCert(der);
    const rec = this.#d.certs.bySerial(cert.serialNumber);
    const left = cert.notAfter.getTime() - this.#now().getTime();
    // The names as asked and stored (a client may spell an IPv6 address another way than the SAN reads).
    const sameNames = rec !== undefined && sameSet(rec.sans, wanted) && rec.commonName === wanted[0];
    const sameIssuer = cert.issuer === ca.intermediate.cert.subject;
    if (!rec || rec.revokedAt || !sameNames || !sameIssuer || left < SERVER_RENEW_DAYS * DAY_MS)
      return undefined;
    return {
      certPem: certPem(cert),
      chainPem: ca.chainPem,
      keyPem: keyPem.endsWith('\n') ? keyPem : `${keyPem}\n`,
      serial: rec.serial,
      notAfter: rec.notAfter,
    };
  }
}

function view(r: CertificateRecord, now: string): CertView {
  return {
    id: r.id,
    serial: r.serial,
    common_name: r.commonName,
    sans: r.sans,
    purpose: r.purpose,
    not_before: r.notBefore,
    not_after: r.notAfter,
    created_at: r.createdAt,
    revoked_at: r.revokedAt,
    reason: r.reason,
    status: r.revokedAt ? 'revoked' : r.notAfter <= now ? 'expired' : 'valid',
  };
}

const unique = (names: readonly string[]) => [...new Set(names)];

/** The names of one of the cell's own certificates: at least one, each a DNS name or an IP. */
function badNames(wanted: readonly string[]): AppError | undefined {
  const bad = wanted.flatMap((n, i) =>
    certName.safeParse(n).success ? [] : [{ field: `names.${i}`, message: 'must be a DNS name or an IP' }],
  );
  if (wanted.length === 0) bad.push({ field: 'names', message: 'must name at least one host' });
  return bad.length ? invalid(bad) : undefined;
}

/** A 400 naming each field whose name the CA may not vouch for (ca-scope.ts), or undefined. */
function outsideScope(names: ReadonlyArray<{ field: string; name: string }>): AppError | undefined {
  const bad = outOfScope(names);
  if (!bad.length) return undefined;
  const fields = bad.map((f) => f.field).join(', ');
  return new AppError('validation_failed', `Invalid ${fields}: ${CA_SCOPE_MESSAGE}`, { fields: bad });
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
}
