// What a public domain mode (pic_ngo, custom) serves until its ACME certificate is here (ADR 0019):
// a self-signed leaf for the public names, kept with its key in the vault's owner-only directory
// (`fallback.pem`) and made again when the names change or fewer than 30 days are left. Not signed
// by the cell's CA: the CA only vouches for `.cell` names and private addresses (ca-scope.ts), and
// in a public mode the cell's DNS answers the public domain, so a `.cell` certificate would match no
// name a client asks for. No device trusts it by itself (CA:FALSE, so trusting it vouches for these
// names and nothing else); HTTPS stays up, with a warning, until the ACME certificate replaces it.
import type { AuditService } from '../audit-service.ts';
import type { VaultFiles } from '../ports/vault.ts';
import { certPem, parseCert, pemBlocks, sansOf, selfSignedLeaf } from './x509.ts';

const DAY_MS = 86_400_000;
const DAYS = 397;
const RENEW_DAYS = 30;

export interface FallbackDeps {
  files: VaultFiles;
  cellName: () => string;
  audit?: Pick<AuditService, 'record'>;
  now: () => Date;
}

export interface FallbackCertificate {
  certPem: string;
  /** Empty: the leaf is its own issuer. */
  chainPem: '';
  keyPem: string;
  serial: string;
  notAfter: string;
}

/** The kept self-signed certificate for exactly these names (the first is the CN), or a new one. */
export async function fallbackCertificate(d: FallbackDeps, names: string[]): Promise<FallbackCertificate> {
  const kept = cached(d, names);
  if (kept) return kept;
  const leaf = await selfSignedLeaf(
    { commonName: names[0]!, names, days: DAYS, clientAuth: false },
    `PIC ${d.cellName()} (self-signed until the ACME certificate is here)`,
    d.now(),
  );
  const pem = certPem(leaf.cert);
  d.files.write('fallback.pem', pem + leaf.privateKeyPem);
  d.audit?.record({
    source: 'vault',
    action: 'self-signed fallback certificate made',
    target: `cn=${names[0]}`,
    detail: `serial ${leaf.serial}, ${names.length} names, until ${leaf.cert.notAfter.toISOString()}`,
  });
  return {
    certPem: pem,
    chainPem: '',
    keyPem: leaf.privateKeyPem,
    serial: leaf.serial,
    notAfter: leaf.cert.notAfter.toISOString(),
  };
}

function cached(d: FallbackDeps, names: string[]): FallbackCertificate | undefined {
  const text = d.files.read('fallback.pem');
  if (text === undefined) return undefined;
  const [der] = pemBlocks(text, 'CERTIFICATE');
  const keyPem = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n?/.exec(text)?.[0];
  if (!der || !keyPem) return undefined;
  try {
    const cert = parseCert(der);
    const have = sansOf(cert);
    const same =
      have.length === names.length &&
      names.every((n) => have.includes(n)) &&
      cert.subjectName.getField('CN')[0] === names[0];
    const left = cert.notAfter.getTime() - d.now().getTime();
    if (!same || cert.issuer !== cert.subject || left < RENEW_DAYS * DAY_MS) return undefined;
    return {
      certPem: certPem(cert),
      chainPem: '',
      keyPem: keyPem.endsWith('\n') ? keyPem : `${keyPem}\n`,
      serial: cert.serialNumber,
      notAfter: cert.notAfter.toISOString(),
    };
  } catch {
    return undefined;
  }
}
