// Where the certificate Caddy serves is delivered: two files in a directory only cell-caddy (read-only)
// and cell-api mount; the key is readable by Caddy's group only (ADR 0018).

export interface CaddyTlsFilesPort {
  /** The chain file as it is now (undefined when missing): equal text means nothing to deliver. */
  currentChain(): string | undefined;
  /** True when the key file exists (a chain without its key is delivered again). */
  hasKey(): boolean;
  /** Writes the key then the chain, each atomically, readable by Caddy's group only. */
  write(chainPem: string, keyPem: string): void;
}
