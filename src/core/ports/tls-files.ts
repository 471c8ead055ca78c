// The TLS use-case's secret files under data/secrets/tls/ (0600 in a 0700 directory, written
// atomically): the ACME account key, the EAB HMAC key, and one bundle per domain (leaf, chain, key).
// directory-ca.pem holds the roots the owner trusts for a private ACME directory's HTTPS (not a
// secret, kept beside the account it serves). Names come from this fixed set, the domain part already parsed by the domainName field.

export type TlsFileName = 'account.key' | 'eab-hmac' | 'directory-ca.pem' | `acme-${string}.pem`;

export interface TlsFiles {
  read(name: TlsFileName): string | undefined;
  write(name: TlsFileName, text: string): void;
  remove(name: TlsFileName): void;
}
