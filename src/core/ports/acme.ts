// What the certificate use-case needs from an ACME client (RFC 8555): a new account key, and one
// order carried through to a certificate. Proving control of each name is the caller's: the driver
// hands every challenge to present() and, once the CA has decided, to cleanup(); it orders the
// authorizations one after another, so a provider that keeps one TXT value per name (Duck DNS, a
// record upsert) never overwrites a value the CA has not read yet.

export type AcmeChallengeType = 'dns-01' | 'http-01';

export interface AcmeChallenge {
  type: AcmeChallengeType;
  /** The name being proved, without its "*." (a wildcard is proved on its base name). */
  domain: string;
  wildcard: boolean;
  /** http-01: the token in /.well-known/acme-challenge/<token>. */
  token: string;
  /** http-01: the key authorization to answer; dns-01: the TXT value (its SHA-256, base64url). */
  value: string;
}

export interface AcmeOrder {
  directoryUrl: string;
  /** Roots trusted for the directory's HTTPS besides the system's (a private ACME CA), PEM. */
  directoryCaPem?: string;
  /** The account's private key, PEM (made by newAccountKey and kept by the caller). */
  accountKeyPem: string;
  email: string | null;
  /** External account binding (ZeroSSL, some enterprise CAs); the HMAC key is a secret. */
  eab?: { kid: string; hmacKey: string };
  /** The first is the subject; all are SANs. */
  names: string[];
  challenge: AcmeChallengeType;
  present(ch: AcmeChallenge): Promise<void>;
  cleanup(ch: AcmeChallenge): Promise<void>;
  /** A short step for the status ("ordering", "validating example.org"): never a secret. */
  progress(step: string): void;
}

export interface AcmeCertificate {
  /** The leaf, PEM. */
  certPem: string;
  /** The intermediates the CA sent after the leaf, PEM (may be empty). */
  chainPem: string;
  /** The leaf's private key (PKCS#8 ECDSA P-256), PEM. */
  keyPem: string;
}

export interface AcmePort {
  newAccountKey(): Promise<string>;
  order(order: AcmeOrder): Promise<AcmeCertificate>;
}
