// The schedule's settings and targets as the owner edits them (ADR 0022): the view (secrets as
// "set" flags only), the schedule and its encryption, adding, removing and testing targets. The runs
// themselves are BackupScheduler's; it is told when the settings change.

import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  type BackupScheduleBody,
  type BackupScheduleView,
  type BackupTargetBody,
  type BackupTargetSpec,
  type BackupTargetView,
  MAX_BACKUP_TARGETS,
  type TargetTestResult,
} from '../../schema/backup-schedule.ts';
import { privateEndpointMessage, privateEndpointReason } from '../../schema/private-endpoint.ts';
import { AppError, conflict, invalid, notFound } from '../errors.ts';
import type {
  BackupScheduleRepository,
  InvalidTarget,
  StoredTarget,
} from '../ports/backup-schedule-repository.ts';
import type { BackupTargetFactory } from '../ports/backup-target.ts';
import type { Clock } from '../ports/clock.ts';
import type { SecretFile } from '../ports/secret-file.ts';
import { failureText } from './failure-text.ts';
import { nextSlot } from './next-slot.ts';

export interface BackupScheduleDeps {
  repo: BackupScheduleRepository;
  /** The stored passphrase of scheduled backups (data/secrets/backup/passphrase). */
  passphrase: SecretFile;
  /** A target's secret access key, in a file of its own. */
  targetSecret(id: number): SecretFile;
  targets: BackupTargetFactory;
  clock: Pick<Clock, 'now'>;
  /** Whether a backup engine is wired in: without one the schedule is kept but cannot run. */
  available: boolean;
  /** The cell's own networks (CIDRs): an S3 endpoint there is refused unless allowed on purpose. */
  cellNetworks?: () => string[];
}

const NEEDS_ENCRYPTION = 'a recipient or a passphrase is required while backups are copied to targets';

export class BackupScheduleService {
  readonly #d: BackupScheduleDeps;
  readonly #listeners: Array<() => void> = [];

  constructor(deps: BackupScheduleDeps) {
    this.#d = deps;
  }

  /** Called after the schedule or the targets change (the scheduler plans again). */
  onChange(fn: () => void): void {
    this.#listeners.push(fn);
  }

  view(): BackupScheduleView {
    const s = this.#d.repo.settings();
    const st = this.#d.repo.state();
    return {
      schedule: { enabled: s.enabled, hour: s.hour, keep_daily: s.keepDaily, keep_weekly: s.keepWeekly },
      encryption: { recipient: s.recipient, passphrase_set: this.#d.passphrase.read() !== undefined },
      targets: this.#d.repo.targets().map((t) => this.#targetView(t)),
      next_run_at: s.enabled && st.nextRunAt !== null ? new Date(st.nextRunAt).toISOString() : null,
      last_run: st.lastRunAt ? { at: st.lastRunAt, backup_id: st.lastBackupId, error: st.lastError } : null,
      available: this.#d.available,
    };
  }

  /**
   * The directory targets (cell-api gets each mounted at /backup-targets/<id>). Only stored targets
   * that pass the schema again: a row that fails it is in invalidTargets(), never here.
   */
  directories(): Array<{ id: number; path: string }> {
    return this.#d.repo
      .targets()
      .flatMap((t) => (t.spec.kind === 'directory' ? [{ id: t.id, path: t.spec.path }] : []));
  }

  /** Stored targets whose fields fail the schema (a crafted or damaged restore): refused, for the log. */
  invalidTargets(): InvalidTarget[] {
    return this.#d.repo.invalidTargets();
  }

  configure(body: BackupScheduleBody): BackupScheduleView {
    const old = this.#d.repo.settings();
    // What encryption is left once the body is applied: setting one kind clears the other.
    const recipient =
      typeof body.passphrase === 'string'
        ? null
        : body.recipient === undefined
          ? old.recipient
          : body.recipient;
    const passphraseKept =
      typeof body.recipient === 'string' || body.passphrase === null
        ? false
        : body.passphrase !== undefined || this.#d.passphrase.read() !== undefined;
    if (this.#d.repo.targets().length > 0 && recipient === null && !passphraseKept)
      throw invalid([
        { field: body.passphrase === null ? 'passphrase' : 'recipient', message: NEEDS_ENCRYPTION },
      ]);
    if (typeof body.passphrase === 'string') this.#d.passphrase.write(body.passphrase);
    else if (!passphraseKept) this.#d.passphrase.remove();
    this.#d.repo.saveSettings({
      enabled: body.enabled,
      hour: body.hour,
      keepDaily: body.keep_daily,
      keepWeekly: body.keep_weekly,
      recipient,
    });
    // A new start: the next run is the next time the hour comes round (no catch-up for earlier days).
    const st = this.#d.repo.state();
    this.#d.repo.saveState({
      ...st,
      nextRunAt: body.enabled ? nextSlot(this.#d.clock.now(), body.hour) : null,
    });
    this.#changed();
    return this.view();
  }

  addTarget(body: BackupTargetBody): BackupTargetView {
    const s = this.#d.repo.settings();
    if (s.recipient === null && this.#d.passphrase.read() === undefined)
      throw conflict(`Set a recipient or a passphrase first: ${NEEDS_ENCRYPTION}`);
    const targets = this.#d.repo.targets();
    if (targets.length >= MAX_BACKUP_TARGETS)
      throw conflict(`At most ${MAX_BACKUP_TARGETS} targets can be kept`);
    const spec = specOf(body);
    if (spec.kind === 's3' && !spec.allow_private_endpoint) {
      const reason = privateEndpointReason(new URL(spec.endpoint).hostname, this.#d.cellNetworks?.() ?? []);
      if (reason) {
        const message = `the endpoint's host ${privateEndpointMessage(reason)}`;
        throw new AppError('bad_request', message, { fields: [{ field: 'endpoint', message }] });
      }
    }
    if (targets.some((t) => sameDestination(t.spec, spec)))
      throw conflict('A target with this destination exists already');
    const t = this.#d.repo.addTarget(spec, new Date(this.#d.clock.now()).toISOString());
    if (body.kind === 's3' && body.secret_access_key !== undefined) {
      try {
        this.#d.targetSecret(t.id).write(body.secret_access_key);
      } catch (err) {
        this.#d.repo.removeTarget(t.id);
        throw new AppError('internal', 'Could not store the secret access key', { cause: err });
      }
    }
    this.#changed();
    return this.#targetView(t);
  }

  removeTarget(id: number): void {
    if (!this.#d.repo.removeTarget(id)) throw notFound('Backup target');
    this.#d.targetSecret(id).remove();
    this.#changed();
  }

  /** Writes a small probe object, finds it in the listing and removes it: the answer says what failed. */
  async testTarget(id: number): Promise<TargetTestResult> {
    const t = this.#d.repo.target(id);
    if (!t) throw notFound('Backup target');
    const secret = this.#d.targetSecret(id).read();
    const name = `pic-probe-${randomBytes(8).toString('hex')}`;
    const probe = Buffer.from(`PIC backup target probe ${new Date(this.#d.clock.now()).toISOString()}\n`);
    const target = this.#d.targets(t.spec, secret, t.id);
    let step = 'write';
    try {
      await target.put(name, Readable.from([probe]), probe.length);
      step = 'list';
      const found = (await target.list()).find((o) => o.name === name);
      if (!found) throw new Error('the probe written is not in the listing');
      if (found.size !== probe.length) throw new Error(`the probe reads back ${found.size} bytes`);
      step = 'remove';
      await target.remove(name);
      return { ok: true, error: null };
    } catch (err) {
      return { ok: false, error: `${step}: ${failureText(err, [secret])}` };
    }
  }

  #targetView(t: StoredTarget): BackupTargetView {
    const common = {
      id: t.id,
      created_at: t.createdAt,
      last_result: t.lastResult,
      pending_backup_id: t.pendingBackupId,
    };
    if (t.spec.kind === 'directory') return { ...common, kind: 'directory', path: t.spec.path };
    return {
      ...common,
      ...t.spec,
      secret_set: this.#d.targetSecret(t.id).read() !== undefined,
    };
  }

  #changed(): void {
    for (const fn of this.#listeners) fn();
  }
}

function specOf(b: BackupTargetBody): BackupTargetSpec {
  // The schema has made sure the fields of the kind are there.
  if (b.kind === 'directory') return { kind: 'directory', path: b.path! };
  return {
    kind: 's3',
    endpoint: b.endpoint!.replace(/\/+$/, ''),
    region: b.region!,
    bucket: b.bucket!,
    prefix: b.prefix ?? null,
    access_key_id: b.access_key_id!,
    ...(b.allow_private_endpoint ? { allow_private_endpoint: true } : {}),
  };
}

function sameDestination(a: BackupTargetSpec, b: BackupTargetSpec): boolean {
  if (a.kind === 'directory' || b.kind === 'directory')
    return a.kind === 'directory' && b.kind === 'directory' && a.path === b.path;
  return a.endpoint === b.endpoint && a.bucket === b.bucket && (a.prefix ?? '') === (b.prefix ?? '');
}
