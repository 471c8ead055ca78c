// The certificate cell-caddy serves for the cell's names in local mode: the cell CA's server
// certificate for `<domain>` and `*.<domain>` (VaultService caches it and issues a new one when fewer
// than 30 days are left or the names changed). Delivered as files Caddy loads (ADR 0018); when what
// is delivered changes, the running Caddy is told to load its config again so it reads them.
// Checked when cell-api starts, once a day, and before a configuration apply renders Caddy's config
// for a new domain. The key never reaches a log line: only the serial and the names are logged.
import type { CellConfig } from '../../schema/config.ts';
import type { CaddyTlsFilesPort } from '../ports/caddy-tls-files.ts';
import type { ServerCertificate } from '../vault/vault-service.ts';

export interface FrontDoorTlsDeps {
  vault: { serverCertificate(names: string[]): Promise<ServerCertificate> };
  files: CaddyTlsFilesPort;
  /** Makes a running Caddy read the files again (a forced load of its current config). */
  reload?: (config: CellConfig) => Promise<void>;
  log?: (fields: Record<string, unknown>, msg: string) => void;
}

export type TlsOutcome = 'delivered' | 'unchanged' | 'not-local';

/** The names the cell's HTTPS certificate covers, or undefined outside local mode (ACME comes later). */
export function frontDoorNames(config: CellConfig): string[] | undefined {
  const { domain_mode, domain } = config.identity;
  return domain_mode === 'local' ? [domain, `*.${domain}`] : undefined;
}

export class FrontDoorTls {
  readonly #d: FrontDoorTlsDeps;

  constructor(deps: FrontDoorTlsDeps) {
    this.#d = deps;
  }

  /**
   * Makes the delivered files hold the current certificate for `config`'s names; reloads Caddy when
   * they changed and `reload` is set (`pic up` sets none: it writes them before Caddy starts).
   */
  async ensure(config: CellConfig, opts: { reload?: boolean } = {}): Promise<TlsOutcome> {
    const names = frontDoorNames(config);
    if (!names) return 'not-local';
    const cert = await this.#d.vault.serverCertificate(names);
    const chain = cert.certPem + cert.chainPem;
    if (this.#d.files.currentChain() === chain && this.#d.files.hasKey()) return 'unchanged';
    this.#d.files.write(chain, cert.keyPem);
    this.#d.log?.(
      { serial: cert.serial, names, not_after: cert.notAfter },
      'HTTPS certificate delivered to Caddy',
    );
    if (opts.reload !== false && this.#d.reload) await this.#d.reload(config);
    return 'delivered';
  }
}
