// Dynamic DNS: the owner's settings (the token in a 0600 secret file, the rest in SQLite) and
// publishing the public address. The scheduler calls tick(); "Update now" calls publish({manual}).
// Only a changed address is sent; errors back off exponentially (capped); a refusal that retrying
// cannot fix (badauth, nohost, !donator, abuse, badagent) stops until the settings change.
import {
  DDNS_DEFAULT_URLS,
  DDNS_TXT_PROVIDERS,
  type DdnsOutcome,
  type DdnsSettingsBody,
  type DdnsView,
} from '../../schema/ddns.ts';
import { AppError, invalid } from '../errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { HttpClient } from '../ports/http-client.ts';
import type { SecretFile } from '../ports/secret-file.ts';
import type { DdnsRecord, DdnsRepository, DdnsState } from './ddns-repository.ts';
import { type ProviderContext, type PublishResult, trimSlash } from './provider.ts';
import { PROVIDERS } from './providers/index.ts';
import { publicIp } from './public-ip.ts';

/** Re-check the address this often. */
export const REPUBLISH_MS = 5 * 60_000;
/** First retry after an error; doubles with each failure in a row up to BACKOFF_MAX_MS. */
export const BACKOFF_BASE_MS = 60_000;
export const BACKOFF_MAX_MS = 60 * 60_000;

export const backoffMs = (failures: number) =>
  Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, Math.min(failures - 1, 20)), BACKOFF_MAX_MS);

const FRESH: DdnsState = {
  lastIp: null,
  lastUpdate: null,
  lastError: null,
  failures: 0,
  nextAttemptAt: null,
  stopped: false,
  recordId: null,
};

export interface DdnsServiceDeps {
  repo: DdnsRepository;
  token: SecretFile;
  http: HttpClient;
  clock: Pick<Clock, 'now'>;
  /** Sent with every request (No-IP refuses clients that do not name themselves). */
  userAgent: string;
  log?: (level: 'info' | 'warn', fields: Record<string, unknown>, msg: string) => void;
}

/** Removes the token, in every form a request carries it, from a message bound for a log or the UI. */
export function redact(message: string, token: string | undefined): string {
  if (!token) return message;
  let out = message;
  for (const form of [token, encodeURIComponent(token), Buffer.from(token).toString('base64')])
    if (form.length >= 4) out = out.split(form).join('[token]');
  return out;
}

export class DdnsService {
  readonly #d: DdnsServiceDeps;
  readonly #listeners: Array<() => void> = [];
  /** Bumped by each settings change: a publish that started before it does not write its result. */
  #generation = 0;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(deps: DdnsServiceDeps) {
    this.#d = deps;
  }

  /** Called after the settings change (the scheduler re-plans). */
  onConfigured(fn: () => void): void {
    this.#listeners.push(fn);
  }

  view(): DdnsView {
    const rec = this.#d.repo.get();
    if (!rec)
      return {
        configured: false,
        provider: null,
        hostname: null,
        zone_id: null,
        api_url: null,
        custom_api_url: null,
        ip_echo_urls: [],
        token_set: false,
        supports_txt: false,
        last_ip: null,
        last_update: null,
        last_error: null,
        next_attempt: null,
        stopped: false,
      };
    const { settings: s, state: st } = rec;
    return {
      configured: true,
      provider: s.provider,
      hostname: s.hostname,
      zone_id: s.zoneId,
      api_url: s.apiUrl ?? DDNS_DEFAULT_URLS[s.provider],
      custom_api_url: s.apiUrl,
      ip_echo_urls: s.ipEchoUrls,
      token_set: this.#d.token.read() !== undefined,
      supports_txt: DDNS_TXT_PROVIDERS.includes(s.provider),
      last_ip: st.lastIp,
      last_update: st.lastUpdate,
      last_error: st.lastError,
      next_attempt: st.nextAttemptAt === null ? null : new Date(st.nextAttemptAt).toISOString(),
      stopped: st.stopped,
    };
  }

  /** Stores new settings; the token only when given (kept when left out and the provider is the same). */
  configure(body: DdnsSettingsBody): DdnsView {
    const old = this.#d.repo.get();
    // The stored token goes only where it went before or to the provider itself: else a session that
    // may change the settings (a stolen one too) could point api_url at its own server and read the
    // write-only token there.
    const where = (provider: DdnsSettingsBody['provider'], apiUrl: string | null | undefined) =>
      trimSlash(apiUrl ?? DDNS_DEFAULT_URLS[provider]);
    const keepable =
      old !== undefined &&
      old.settings.provider === body.provider &&
      (body.api_url === undefined ||
        where(old.settings.provider, old.settings.apiUrl) === where(body.provider, body.api_url));
    if (body.token === undefined && (!keepable || !this.#d.token.read()))
      throw invalid([
        {
          field: 'token',
          message: 'is required when the provider or the API URL changes, or none is stored',
        },
      ]);
    if (body.token !== undefined) this.#d.token.write(body.token);
    this.#generation++;
    this.#d.repo.put({
      settings: {
        provider: body.provider,
        hostname: body.hostname,
        zoneId: body.zone_id ?? null,
        apiUrl: body.api_url ?? null,
        ipEchoUrls: body.ip_echo_urls ?? [],
      },
      // A new start: publish soon, whatever was known or refused before.
      state: { ...FRESH, nextAttemptAt: this.#d.clock.now() },
    });
    for (const fn of this.#listeners) fn();
    return this.view();
  }

  /** When the scheduler should next call tick(); null: nothing planned. */
  nextAttemptAt(): number | null {
    const rec = this.#d.repo.get();
    return rec && !rec.state.stopped ? rec.state.nextAttemptAt : null;
  }

  /** The scheduler's call: publishes when an attempt is due. */
  async tick(): Promise<void> {
    const due = this.nextAttemptAt();
    if (due === null || this.#d.clock.now() < due) return;
    await this.publish({ manual: false });
  }

  /**
   * Reads the public address and sends it when it changed (manual: send it anyway, even when
   * stopped or backing off: the owner asked). One publish at a time.
   */
  publish(opts: { manual: boolean }): Promise<DdnsOutcome> {
    const run = this.#queue.then(() => this.#publish(opts.manual));
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Publishes a TXT record (ACME DNS-01) where the provider can. */
  async setTxt(name: string, value: string): Promise<PublishResult> {
    const rec = this.#d.repo.get();
    const impl = rec && PROVIDERS[rec.settings.provider];
    if (!rec || !impl?.setTxt) throw new AppError('conflict', 'The DDNS provider cannot publish TXT records');
    const token = this.#d.token.read();
    if (!token) throw new AppError('conflict', 'No DDNS token is stored');
    return impl.setTxt(this.#d.http, this.#context(rec, token), name, value);
  }

  /** Removes a TXT record setTxt published (ACME DNS-01 cleanup). */
  async removeTxt(name: string, value: string): Promise<PublishResult> {
    const rec = this.#d.repo.get();
    const impl = rec && PROVIDERS[rec.settings.provider];
    if (!rec || !impl?.removeTxt)
      throw new AppError('conflict', 'The DDNS provider cannot remove TXT records');
    const token = this.#d.token.read();
    if (!token) throw new AppError('conflict', 'No DDNS token is stored');
    return impl.removeTxt(this.#d.http, this.#context(rec, token), name, value);
  }

  /** The configured provider, and whether it can publish TXT records (ACME DNS-01). */
  txtProvider(): { provider: string | null; supportsTxt: boolean } {
    const rec = this.#d.repo.get();
    if (!rec) return { provider: null, supportsTxt: false };
    return {
      provider: rec.settings.provider,
      supportsTxt: PROVIDERS[rec.settings.provider].setTxt !== undefined,
    };
  }

  #context(rec: DdnsRecord, token: string): ProviderContext {
    const s = rec.settings;
    return {
      hostname: s.hostname,
      token,
      baseUrl: s.apiUrl ?? DDNS_DEFAULT_URLS[s.provider],
      zoneId: s.zoneId,
      recordId: rec.state.recordId,
      userAgent: this.#d.userAgent,
    };
  }

  async #publish(manual: boolean): Promise<DdnsOutcome> {
    const rec = this.#d.repo.get();
    if (!rec) throw new AppError('conflict', 'Dynamic DNS is not configured');
    const generation = this.#generation;
    const token = this.#d.token.read();
    const now = () => this.#d.clock.now();
    const st = rec.state;
    const finish = (
      state: DdnsState,
      outcome: DdnsOutcome['outcome'],
      ip: string | null,
      message: string,
      quiet = false,
    ) => {
      const safe = redact(message, token);
      const ok = outcome === 'updated' || outcome === 'unchanged';
      const saved = { ...state, lastError: ok ? null : safe };
      if (generation === this.#generation) this.#d.repo.saveState(saved);
      if (!quiet) this.#d.log?.(ok ? 'info' : 'warn', { provider: rec.settings.provider, outcome, ip }, safe);
      const next = saved.nextAttemptAt;
      return {
        outcome,
        ip,
        message: safe,
        next_attempt: next === null ? null : new Date(next).toISOString(),
      };
    };
    if (!token) return finish({ ...st, nextAttemptAt: null }, 'stopped', null, 'No DDNS token is stored');
    const echo = await publicIp(this.#d.http, rec.settings.ipEchoUrls, this.#d.userAgent);
    if (!echo.ok) {
      if (rec.settings.ipEchoUrls.length === 0)
        return finish({ ...st, nextAttemptAt: null }, 'stopped', null, echo.message);
      return this.#failed(st, finish, null, { kind: 'retry', message: echo.message });
    }
    const ip = echo.ip;
    if (!manual && ip === st.lastIp && st.lastError === null)
      return finish(
        { ...st, nextAttemptAt: now() + REPUBLISH_MS },
        'unchanged',
        ip,
        'The address has not changed',
        true,
      );
    let result: PublishResult;
    try {
      result = await PROVIDERS[rec.settings.provider].setAddress(this.#d.http, this.#context(rec, token), ip);
    } catch (err) {
      result = { kind: 'retry', message: `${rec.settings.provider}: ${(err as Error).message}` };
    }
    if (result.kind === 'updated' || result.kind === 'unchanged')
      return finish(
        {
          ...st,
          lastIp: ip,
          lastUpdate: new Date(now()).toISOString(),
          failures: 0,
          stopped: false,
          nextAttemptAt: now() + REPUBLISH_MS,
          recordId: result.recordId ?? st.recordId,
        },
        result.kind,
        ip,
        result.message,
      );
    return this.#failed(st, finish, ip, result);
  }

  #failed(
    st: DdnsState,
    finish: (s: DdnsState, o: DdnsOutcome['outcome'], ip: string | null, m: string) => DdnsOutcome,
    ip: string | null,
    result: Extract<PublishResult, { kind: 'retry' | 'fatal' }>,
  ): DdnsOutcome {
    if (result.kind === 'fatal')
      return finish(
        { ...st, stopped: true, nextAttemptAt: null, recordId: null },
        'stopped',
        ip,
        `${result.message}; stopped until the settings change`,
      );
    const failures = st.failures + 1;
    const delay = Math.max(backoffMs(failures), result.minDelayMs ?? 0);
    return finish(
      { ...st, failures, nextAttemptAt: this.#d.clock.now() + delay },
      'retry',
      ip,
      result.message,
    );
  }
}
