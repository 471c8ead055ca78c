// Caddy's admin API over its unix socket (node:http with socketPath: no dependency): POST /load with
// the whole rendered JSON. The socket sits in a directory only cell-caddy and cell-api mount, so no
// other container can reach it (ADR 0018); Caddy also checks the Host header against the one name
// in `origins`, which this client sends.
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { AppError } from '../../core/errors.ts';
import type { CaddyAdminPort } from '../../core/ports/caddy-admin.ts';
import { CADDY_ADMIN_HOST } from '../../schema/runtime.ts';

export interface CaddyAdminOptions {
  /** Path of the admin API's unix socket, as this process sees it. */
  socketPath: string;
  /** The Host header sent (default: the one the rendered config accepts). */
  host?: string;
  timeoutMs?: number;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/**
 * Caddy replaces its admin endpoint as it applies a config: a request right behind a load can meet
 * the old listener closing (EPIPE, ECONNRESET) or the socket not there yet (ENOENT, ECONNREFUSED).
 * Such a request is sent again after these pauses (ms); a load is idempotent.
 */
const RETRY_AFTER_MS = [100, 250, 500];
const TRANSIENT = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ENOENT']);
const transient = (err: unknown) => TRANSIENT.has((err as NodeJS.ErrnoException).code ?? '');
/** Caddy's reasons can be long (the whole provisioning chain); the caller gets the start. */
const MAX_REASON = 400;

export class CaddyAdmin implements CaddyAdminPort {
  readonly #socketPath: string;
  readonly #host: string;
  readonly #timeoutMs: number;
  /** Hash of the last config Caddy accepted from this client: an equal one is not sent again. */
  #loaded: string | undefined;

  constructor(opts: CaddyAdminOptions) {
    this.#socketPath = opts.socketPath;
    this.#host = opts.host ?? CADDY_ADMIN_HOST;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
  }

  async load(config: string): Promise<'loaded' | 'unchanged'> {
    const hash = sha256(config);
    if (hash === this.#loaded) return 'unchanged';
    await this.#post(config, false);
    this.#loaded = hash;
    return 'loaded';
  }

  async reload(config: string): Promise<void> {
    // Caddy skips a config equal to the one it runs unless told to revalidate: files it loads (the
    // certificate) may have changed under an unchanged config.
    await this.#post(config, true);
    this.#loaded = sha256(config);
  }

  /** GET a path of the admin API (tests and diagnostics). */
  get(path: string): Promise<{ status: number; body: string }> {
    return this.#send('GET', path, undefined, {});
  }

  async #post(config: string, force: boolean): Promise<void> {
    let res: { status: number; body: string } | undefined;
    for (let attempt = 0; !res; attempt++) {
      try {
        res = await this.#send('POST', '/load', config, {
          'content-type': 'application/json',
          ...(force ? { 'cache-control': 'must-revalidate' } : {}),
        });
      } catch (err) {
        const pause = RETRY_AFTER_MS[attempt];
        if (pause !== undefined && transient(err)) {
          await new Promise((r) => setTimeout(r, pause));
          continue;
        }
        throw new AppError('unavailable', `Caddy's admin API at ${this.#socketPath} did not answer`, {
          cause: err,
        });
      }
    }
    if (res.status < 200 || res.status > 299) {
      throw new AppError(
        'unavailable',
        `Caddy refused the new configuration and keeps the old one: ${reason(res.body, res.status)}`,
      );
    }
  }

  #send(
    method: string,
    path: string,
    body: string | undefined,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.#socketPath,
          method,
          path,
          headers: { ...headers, host: this.#host },
          timeout: this.#timeoutMs,
          // A connection of its own each time: a kept-alive one may belong to the admin endpoint a
          // load just replaced.
          agent: false,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            if (text.length < 64 * 1024) text += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
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
