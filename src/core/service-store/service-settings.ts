// A store service's typed settings and its status (issue 13): the owner reads and changes the values
// its manifest declares (the mail smarthost, the quota, aliases); each value is checked by its field's
// type (schema/service-hooks.ts) before it is stored, secrets are sealed at rest by the repository and
// never returned, and the service's `apply` hook gets every value as ONE JSON object on stdin (unset =
// null) after each change and after each start. A failed apply keeps the values and says why, in a
// bounded message with no secret in it. `status` runs the service's status hook (a JSON object).
import {
  checkSettings,
  type SettingsBody,
  type SettingsView,
  type SettingValue,
} from '../../schema/service-hooks.ts';
import type { ServiceManifest, ServiceSettingField } from '../../schema/service-manifest.ts';
import { AppError } from '../errors.ts';
import type { HookLimits, HookRunner } from '../ports/service-accounts.ts';
import type { ServiceSettingsRepository, ServiceSettingsRow } from '../ports/service-hooks.ts';
import { cleanError } from '../tls/tls-policy.ts';
import { type HookTarget, type HookTargets, hookFailure } from './hook-targets.ts';

export const APPLY_LIMITS: HookLimits = { timeoutMs: 30_000, maxBytes: 64 * 1024 };
export const STATUS_LIMITS: HookLimits = { timeoutMs: 10_000, maxBytes: 256 * 1024 };

export interface ServiceSettingsDeps {
  repo: ServiceSettingsRepository;
  targets: HookTargets;
  hooks: HookRunner;
  /** The service's current accounts' usernames (alias targets). */
  accounts: (serviceId: string) => string[];
  now?: () => Date;
  log?: (level: 'info' | 'warn', fields: Record<string, unknown>, msg: string) => void;
}

const EMPTY = (at: string): ServiceSettingsRow => ({
  values: {},
  secrets: {},
  applied: false,
  applyError: null,
  updatedAt: at,
});

export class ServiceSettingsService {
  readonly #d: ServiceSettingsDeps;
  /** One apply at a time per service: the hook rewrites its configs. */
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(deps: ServiceSettingsDeps) {
    this.#d = deps;
  }

  async #target(id: string): Promise<HookTarget & { settings: NonNullable<ServiceManifest['settings']> }> {
    const t = await this.#d.targets.running(id);
    const settings = t.manifest.settings;
    if (!settings) throw new AppError('conflict', `${id} has no settings`);
    return { ...t, settings };
  }

  #now(): string {
    return (this.#d.now?.() ?? new Date()).toISOString();
  }

  async get(id: string): Promise<SettingsView> {
    const t = await this.#target(id);
    return this.#view(t.settings.fields, this.#d.repo.get(id) ?? EMPTY(this.#now()));
  }

  /** Checks and stores the values, then runs `apply`; 200 with the view whether or not apply worked. */
  async put(id: string, body: SettingsBody): Promise<SettingsView> {
    const t = await this.#target(id);
    const checked = checkSettings(t.settings.fields, body.values, this.#d.accounts(id));
    if (!checked.ok) {
      const names = checked.errors.map((e) => e.field).join(', ');
      throw new AppError('validation_failed', `Invalid ${names}`, { fields: checked.errors });
    }
    return this.#serial(id, async () => {
      const row = this.#d.repo.get(id) ?? EMPTY(this.#now());
      const values = { ...row.values };
      for (const [k, v] of Object.entries(checked.change.values)) {
        if (v === null) delete values[k];
        else values[k] = v;
      }
      const secrets = { ...row.secrets };
      for (const [k, v] of Object.entries(checked.change.secrets)) {
        if (v === null) delete secrets[k];
        else secrets[k] = v;
      }
      const saved: ServiceSettingsRow = { ...row, values, secrets, updatedAt: this.#now() };
      this.#d.repo.put(id, saved);
      this.#d.log?.('info', { service: id, keys: Object.keys(body.values) }, 'service settings changed');
      const applied = await this.#apply(t, saved);
      return this.#view(t.settings.fields, applied);
    });
  }

  /** After each start of a service with settings: `apply` with what is stored. Never throws. */
  async afterStart(m: ServiceManifest): Promise<void> {
    if (!m.settings) return;
    const t = this.#d.targets.of(m);
    await this.#serial(m.id, async () => {
      await this.#apply({ ...t, settings: m.settings! }, this.#d.repo.get(m.id) ?? EMPTY(this.#now()));
    }).catch(() => undefined);
  }

  /** Runs the status hook: its JSON object, or why there is none. */
  async status(id: string): Promise<{ status: Record<string, unknown> | null; error: string | null }> {
    const t = await this.#d.targets.running(id);
    const hook = t.manifest.status;
    if (!hook) throw new AppError('conflict', `${id} has no status`);
    try {
      const r = await this.#d.hooks.run(
        t.container(hook.container),
        [...hook.command],
        undefined,
        STATUS_LIMITS,
      );
      if (r.exitCode !== 0)
        return { status: null, error: cleanError(`the status hook failed: ${hookFailure(r)}`) };
      let parsed: unknown;
      try {
        parsed = JSON.parse(r.stdout);
      } catch {
        return { status: null, error: 'the status hook did not print JSON' };
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        return { status: null, error: 'the status hook did not print a JSON object' };
      return { status: parsed as Record<string, unknown>, error: null };
    } catch (err) {
      return { status: null, error: cleanError(`the status hook could not run: ${(err as Error).message}`) };
    }
  }

  /** Every field's value for `apply` (secrets included; unset = null). */
  #full(
    fields: readonly ServiceSettingField[],
    row: ServiceSettingsRow,
  ): Record<string, SettingValue | null> {
    const out: Record<string, SettingValue | null> = {};
    for (const f of fields)
      out[f.key] = f.type === 'secret' ? (row.secrets[f.key] ?? null) : this.#value(f, row);
    return out;
  }

  #value(f: ServiceSettingField, row: ServiceSettingsRow): SettingValue | null {
    const stored = row.values[f.key];
    if (stored !== undefined) return stored;
    return 'default' in f && f.default !== undefined ? f.default : null;
  }

  async #apply(
    t: HookTarget & { settings: NonNullable<ServiceManifest['settings']> },
    row: ServiceSettingsRow,
  ): Promise<ServiceSettingsRow> {
    const id = t.manifest.id;
    // As given, and as the hook may echo it back inside JSON (quotes and backslashes escaped).
    const secrets = Object.values(row.secrets).flatMap((v) => [v, JSON.stringify(v).slice(1, -1)]);
    const stdin = `${JSON.stringify(this.#full(t.settings.fields, row))}\n`;
    let error: string | null = null;
    try {
      const r = await this.#d.hooks.run(
        t.container(t.settings.container),
        [...t.settings.apply],
        stdin,
        APPLY_LIMITS,
      );
      if (r.exitCode !== 0) error = `apply failed: ${hookFailure(r)}`;
    } catch (err) {
      error = `apply could not run: ${(err as Error).message}`;
    }
    // Bounded, one line, and any secret the hook echoed is masked.
    const apply_error = error === null ? null : cleanError(error, secrets);
    const next: ServiceSettingsRow = { ...row, applied: apply_error === null, applyError: apply_error };
    this.#d.repo.put(id, next);
    if (apply_error)
      this.#d.log?.('warn', { service: id, err: apply_error }, 'applying service settings failed');
    return next;
  }

  #view(fields: readonly ServiceSettingField[], row: ServiceSettingsRow): SettingsView {
    const values: SettingsView['values'] = {};
    const secrets_set: Record<string, boolean> = {};
    for (const f of fields) {
      if (f.type === 'secret') secrets_set[f.key] = row.secrets[f.key] !== undefined;
      else values[f.key] = this.#value(f, row);
    }
    return {
      fields: fields.map((f) => ({ ...f })),
      values,
      secrets_set,
      applied: row.applied,
      apply_error: row.applyError,
    };
  }

  #serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#queues.get(id) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.#queues.set(id, next);
    return next;
  }
}
