// Caddy's admin API over HTTP (fetch): POST /load with the whole rendered JSON. The admin API listens
// on cell-caddy's cell-network address and checks the Host header against its `origins`, which
// include that address, so requests go to http://<address>/ directly.
import { createHash } from 'node:crypto';
import { AppError } from '../../core/errors.ts';
import type { CaddyAdminPort } from '../../core/ports/caddy-admin.ts';

export interface CaddyAdminOptions {
  /** ip:port of the admin API. */
  address: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** Caddy's reasons can be long (the whole provisioning chain); the caller gets the start. */
const MAX_REASON = 400;

export class CaddyAdmin implements CaddyAdminPort {
  readonly #address: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  /** Hash of the last config Caddy accepted from this client: an equal one is not sent again. */
  #loaded: string | undefined;

  constructor(opts: CaddyAdminOptions) {
    this.#address = opts.address;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#fetch = opts.fetch ?? fetch;
  }

  async load(config: string): Promise<'loaded' | 'unchanged'> {
    const hash = sha256(config);
    if (hash === this.#loaded) return 'unchanged';
    let res: Response;
    try {
      res = await this.#fetch(`http://${this.#address}/load`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: config,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw new AppError('unavailable', `Caddy's admin API at ${this.#address} did not answer`, {
        cause: err,
      });
    }
    const body = await res.text().catch(() => '');
    if (!res.ok) {
      throw new AppError(
        'unavailable',
        `Caddy refused the new configuration and keeps the old one: ${reason(body, res.status)}`,
      );
    }
    this.#loaded = hash;
    return 'loaded';
  }
}

function reason(body: string, status: number): string {
  let text = body.trim();
  try {
    const j = JSON.parse(body) as { error?: unknown };
    if (typeof j.error === 'string') text = j.error;
  } catch {
    // Not JSON: keep the text.
  }
  text = text.replace(/\s+/g, ' ');
  return (text || `HTTP ${status}`).slice(0, MAX_REASON);
}
