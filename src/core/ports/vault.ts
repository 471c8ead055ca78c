// What the certificate authority needs from the outside: a place for its secret files (the CA's
// keys, the cell's own HTTPS key) and a repository of the certificates it issued and the CRL.
import type { CertificateRecord, RevokeReason } from '../../schema/vault.ts';

/** The vault's files: a fixed set of names, never a path from a request. */
export type VaultFileName = 'ca.pem' | 'server.pem' | 'fallback.pem';

export interface VaultFiles {
  /** The file's text, or undefined when it does not exist yet. */
  read(name: VaultFileName): string | undefined;
  /** Written atomically, owner-only (0600), in an owner-only directory. */
  write(name: VaultFileName, text: string): void;
  /**
   * Like write, but only when the file does not exist yet (never replaced): false when another
   * process (`pic up` beside cell-api) made it first.
   */
  create(name: VaultFileName, text: string): boolean;
}

/** A certificate to store: the record before it has an id or a revocation. */
export type NewCertificate = Omit<CertificateRecord, 'id' | 'revokedAt' | 'reason'>;

export interface StoredCrl {
  number: number;
  thisUpdate: string;
  nextUpdate: string;
  der: Uint8Array;
}

export interface CertificatesRepository {
  insert(cert: NewCertificate): CertificateRecord;
  list(): CertificateRecord[];
  get(id: number): CertificateRecord | undefined;
  bySerial(serial: string): CertificateRecord | undefined;
  /** Marks it revoked; false when it was already revoked. */
  revoke(id: number, at: string, reason: RevokeReason): boolean;
  /** Revoked certificates not yet expired at `now` (what a CRL lists). */
  revokedUnexpired(now: string): CertificateRecord[];
  crl(): StoredCrl | undefined;
  saveCrl(crl: StoredCrl): void;
}
