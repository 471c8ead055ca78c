// X.509 building for the cell's CA: pure computation on WebCrypto (keys are made and signed in
// memory; nothing here reads or writes a file). ECDSA P-256 with SHA-256 everywhere: every client
// the cell serves (browsers, Android, iOS, Windows, OpenSSL, Go's crypto/tls in Caddy) accepts it,
// its keys are small and fast to make, and it is what Caddy's own internal CA uses.
// reflect-metadata must be loaded before @peculiar/x509 (its dependency injection reads it).
import 'reflect-metadata';
import { isIP } from 'node:net';
import { AsnConvert } from '@peculiar/asn1-schema';
import { GeneralName, GeneralSubtree, GeneralSubtrees, NameConstraints } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import type { RevokeReason } from '../../schema/vault.ts';
import { CA_DNS_ZONE, CA_IP_RANGES, ipv6Groups } from './ca-scope.ts';

const { subtle } = globalThis.crypto;
x509.cryptoProvider.set(globalThis.crypto);

const EC: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGN: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
/** Clocks of the devices that check a new certificate may be a little behind the cell's. */
const BACKDATE_MS = 5 * 60_000;
const DAY_MS = 86_400_000;

export interface KeyAndCert {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

export const generateKeys = (): Promise<CryptoKeyPair> =>
  subtle.generateKey(EC, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;

/** A random positive 128-bit serial, hex (its first byte keeps DER from adding or dropping a zero). */
export function randomSerial(): string {
  const b = globalThis.crypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0]! & 0x3f) | 0x40;
  return Buffer.from(b).toString('hex');
}

const name = (cn: string, o?: string): x509.JsonName => [...(o ? [{ O: [o] }] : []), { CN: [cn] }];

export const NAME_CONSTRAINTS_OID = '2.5.29.30';

/**
 * NameConstraints (critical, as RFC 5280 requires): permitted subtrees only, the dNSName `cell` and
 * the private address ranges (ca-scope.ts). @peculiar/x509 has no class for it; its ASN.1 schema does.
 */
export function nameConstraintsExtension(): x509.Extension {
  const permitted = [
    new GeneralName({ dNSName: CA_DNS_ZONE }),
    ...CA_IP_RANGES.map((cidr) => new GeneralName({ iPAddress: cidr })),
  ].map((base) => new GeneralSubtree({ base }));
  const der = AsnConvert.serialize(
    new NameConstraints({ permittedSubtrees: new GeneralSubtrees(permitted) }),
  );
  return new x509.Extension(NAME_CONSTRAINTS_OID, true, der);
}

async function caExtensions(pathLen: number, publicKey: CryptoKey, issuer?: x509.X509Certificate) {
  return [
    new x509.BasicConstraintsExtension(true, pathLen, true),
    // On the root too: devices check a root's constraints against every certificate below it, so a
    // leaf (or a whole intermediate) signed with a stolen key still vouches for nothing else.
    nameConstraintsExtension(),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
      true,
    ),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
    ...(issuer ? [await x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey)] : []),
  ];
}

export interface CaNames {
  /** The organisation on the CA certificates ("PIC home"). */
  organisation: string;
  root: string;
  intermediate: string;
}

/** A self-signed root that may sign one level of CAs below it (pathLen 1). */
export async function createRoot(names: CaNames, now: Date, days: number): Promise<KeyAndCert> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: name(names.root, names.organisation),
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + days * DAY_MS),
    signingAlgorithm: SIGN,
    keys,
    extensions: await caExtensions(1, keys.publicKey),
  });
  return { cert, keys };
}

/** The intermediate that signs leaves and the CRL (pathLen 0: it signs no CA). */
export async function createIntermediate(
  root: KeyAndCert,
  names: CaNames,
  now: Date,
  days: number,
): Promise<KeyAndCert> {
  const keys = await generateKeys();
  const notAfter = Math.min(now.getTime() + days * DAY_MS, root.cert.notAfter.getTime());
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: name(names.intermediate, names.organisation),
    issuer: root.cert.subjectName,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(notAfter),
    signingAlgorithm: SIGN,
    publicKey: keys.publicKey,
    signingKey: root.keys.privateKey,
    extensions: await caExtensions(0, keys.publicKey, root.cert),
  });
  return { cert, keys };
}

export interface LeafRequest {
  commonName: string;
  /** Every DNS name and IP the certificate covers (the common name included). */
  names: string[];
  days: number;
  clientAuth: boolean;
}

export interface Leaf {
  cert: x509.X509Certificate;
  serial: string;
  privateKeyPem: string;
}

async function leafExtensions(req: LeafRequest, publicKey: CryptoKey) {
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(
      req.clientAuth
        ? [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]
        : [x509.ExtendedKeyUsage.serverAuth],
      false,
    ),
    new x509.SubjectAlternativeNameExtension(
      req.names.map((n) =>
        isIP(n) === 0
          ? { type: 'dns' as const, value: n }
          : { type: 'ip' as const, value: isIP(n) === 6 ? ipv6Groups(n) : n },
      ),
      false,
    ),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
  ];
}

/** A TLS server certificate signed by the intermediate; it never outlives the intermediate. */
export async function issueLeaf(issuer: KeyAndCert, req: LeafRequest, now: Date): Promise<Leaf> {
  const keys = await generateKeys();
  const serial = randomSerial();
  const notAfter = Math.min(now.getTime() + req.days * DAY_MS, issuer.cert.notAfter.getTime());
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: name(req.commonName),
    issuer: issuer.cert.subjectName,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(notAfter),
    signingAlgorithm: SIGN,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    extensions: [
      ...(await leafExtensions(req, keys.publicKey)),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.cert.publicKey),
    ],
  });
  return { cert, serial, privateKeyPem: await privateKeyPem(keys.privateKey) };
}

/**
 * A self-signed TLS server certificate (CA:FALSE: it vouches for its own names only, and only to a
 * client that trusts this very certificate). What a public domain mode serves until its ACME
 * certificate is here: the cell's CA may not sign a public name (ca-scope.ts).
 */
export async function selfSignedLeaf(req: LeafRequest, organisation: string, now: Date): Promise<Leaf> {
  const keys = await generateKeys();
  const serial = randomSerial();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial,
    name: name(req.commonName, organisation),
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + req.days * DAY_MS),
    signingAlgorithm: SIGN,
    keys,
    extensions: await leafExtensions(req, keys.publicKey),
  });
  return { cert, serial, privateKeyPem: await privateKeyPem(keys.privateKey) };
}

const REASON: Record<RevokeReason, x509.X509CrlReason> = {
  unspecified: x509.X509CrlReason.unspecified,
  keyCompromise: x509.X509CrlReason.keyCompromise,
  affiliationChanged: x509.X509CrlReason.affiliationChanged,
  superseded: x509.X509CrlReason.superseded,
  cessationOfOperation: x509.X509CrlReason.cessationOfOperation,
};

export interface CrlEntry {
  serial: string;
  revokedAt: Date;
  reason: RevokeReason;
}

/** DER of a non-negative INTEGER (the CRL number's extension value). */
function derInteger(n: number): Uint8Array<ArrayBuffer> {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Uint8Array.from([0x02, bytes.length, ...bytes]);
}

/** A CRL signed by the intermediate, with its number (2.5.29.20) and the issuer's key id. */
export async function createCrl(
  issuer: KeyAndCert,
  entries: readonly CrlEntry[],
  opts: { number: number; now: Date; days: number },
): Promise<Uint8Array> {
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuer.cert.subjectName,
    thisUpdate: new Date(opts.now.getTime() - BACKDATE_MS),
    nextUpdate: new Date(opts.now.getTime() + opts.days * DAY_MS),
    signingAlgorithm: SIGN,
    signingKey: issuer.keys.privateKey,
    entries: entries.map((e) => ({
      serialNumber: e.serial,
      revocationDate: e.revokedAt,
      reason: REASON[e.reason],
    })),
    extensions: [
      new x509.Extension('2.5.29.20', false, derInteger(opts.number)),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.cert.publicKey),
    ],
  });
  return new Uint8Array(crl.rawData);
}

function pem(label: string, der: ArrayBuffer | Uint8Array): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

export const certPem = (cert: x509.X509Certificate): string => pem('CERTIFICATE', cert.rawData);
/** OpenSSL reads CRLs under the label `X509 CRL` (the library writes `CRL`). */
export const crlPem = (der: Uint8Array): string => pem('X509 CRL', der);

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  return pem('PRIVATE KEY', await subtle.exportKey('pkcs8', key));
}

/** Reads the PEM blocks of one label, in order. */
export function pemBlocks(text: string, label: string): Uint8Array<ArrayBuffer>[] {
  const re = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`, 'g');
  return [...text.matchAll(re)].map((m) => new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
}

export const parseCert = (der: Uint8Array<ArrayBuffer>): x509.X509Certificate =>
  new x509.X509Certificate(der);

export async function importKeyPair(
  cert: x509.X509Certificate,
  pkcs8: Uint8Array<ArrayBuffer>,
): Promise<CryptoKeyPair> {
  const privateKey = await subtle.importKey('pkcs8', pkcs8, EC, true, ['sign']);
  const publicKey = await cert.publicKey.export(EC, ['verify']);
  return { privateKey, publicKey };
}

/** The DNS names and IPs a certificate covers, from its SAN extension. */
export function sansOf(cert: x509.X509Certificate): string[] {
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return ext ? ext.names.items.map((n) => n.value) : [];
}
