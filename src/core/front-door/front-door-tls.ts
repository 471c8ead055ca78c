// The certificate cell-caddy serves for the cell's names: what TlsService.certificateFor says for the
// domain mode (ADR 0019): the cell CA's server certificate for `<domain>` and `*.<domain>` in local
// mode (and meanwhile in a public mode), the ACME one once it was obtained. Delivered as files Caddy
// loads (ADR 0018); when what is delivered changes, the running Caddy is told to load its config
// again so it reads them.
// Checked when cell-api starts, once a day, and before a configuration apply renders Caddy's config
// for a new domain. The key never reaches a log line: only the serial and the names are logged.
import type { CellConfig } from '../../schema/config.ts';
import type { CaddyTlsFilesPort } from '../ports/caddy-tls-files.ts';
import type { ServedCertificate } from '../tls/tls-service.ts';

export interface FrontDoorTlsDeps {
  /** The certificate to serve for a configuration's identity (TlsService.certificateFor). */
  certificateFor(identity: CellConfig['identity']): Promise<ServedCertificate>;
  files: CaddyTlsFilesPort;
  /** Makes a running Caddy read the files again (a forced load of its current config). */
  reload?: (config: CellConfig) => Promise<void>;
  log?: (fields: Record<string, unknown>, msg: string) => void;
}

export type TlsOutcome = 'delivered' | 'unchanged';

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
    const cert = await this.#d.certificateFor(config.identity);
    const chain = cert.certPem + cert.chainPem;
    if (this.#d.files.currentChain() === chain && this.#d.files.hasKey()) return 'unchanged';
    this.#d.files.write(chain, cert.keyPem);
    this.#d.log?.(
      { source: cert.source, fallback: cert.fallback, names: cert.names, not_after: cert.notAfter },
      'HTTPS certificate delivered to Caddy',
    );
    if (opts.reload !== false && this.#d.reload) await this.#d.reload(config);
    return 'delivered';
  }
}
