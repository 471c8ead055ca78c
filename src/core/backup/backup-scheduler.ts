// Runs the backup schedule (ADR 0022) on an injectable clock: daily at the hour (UTC) it makes an
// encrypted backup through the BackupSource, applies retention to the scheduled backups here, then
// copies the new one to every target and applies retention there. A failed copy is tried 3 times
// (30 s, then 2 min apart), then again every hour until the next scheduled backup replaces it; each
// failure is shown (the target's last result), audited and logged, never dropped. stop() cancels
// every timer, a backoff wait included, so nothing runs on after a test or a shutdown.
import type { BackupListItem } from '../../schema/backup.ts';
import { backupIdOfObject, TARGET_OBJECT_NAME } from '../../schema/backup-schedule.ts';
import type { AuditService } from '../audit-service.ts';
import { AppError } from '../errors.ts';
import type {
  BackupScheduleRepository,
  ScheduleState,
  StoredTarget,
} from '../ports/backup-schedule-repository.ts';
import type { BackupSource } from '../ports/backup-source.ts';
import type { BackupTargetFactory } from '../ports/backup-target.ts';
import type { Clock } from '../ports/clock.ts';
import type { SecretFile } from '../ports/secret-file.ts';
import { failureText } from './failure-text.ts';
import { nextSlot } from './next-slot.ts';
import { backupsToDelete } from './retention.ts';

/** Waits between the tries of one copy; their count + 1 is the number of tries. */
export const COPY_BACKOFF_MS = [30_000, 120_000] as const;
/** A copy that failed all its tries is tried again this long after. */
export const COPY_RETRY_MS = 60 * 60_000;
/** A scheduled backup that met another job running starts again this long after. */
export const BUSY_RETRY_MS = 5 * 60_000;
/** The timer never sleeps longer than this (a clock that jumped is noticed within it). */
export const RECHECK_MS = 60 * 60_000;

export type ScheduleLog = (
  level: 'info' | 'warn' | 'error',
  fields: Record<string, unknown>,
  msg: string,
) => void;

export interface BackupSchedulerDeps {
  repo: BackupScheduleRepository;
  /** The backup engine; undefined in a process without one (each run then fails, shown as such). */
  source: BackupSource | undefined;
  targets: BackupTargetFactory;
  passphrase: SecretFile;
  targetSecret(id: number): SecretFile;
  clock: Clock;
  audit: Pick<AuditService, 'record'>;
  log: ScheduleLog;
}

export class BackupScheduler {
  readonly #d: BackupSchedulerDeps;
  #timer: unknown;
  #running: Promise<void> | undefined;
  #stopped = true;
  /** The backoff wait in progress: its timer, and how to end it early (stop). */
  #sleep: { timer: unknown; wake: () => void } | undefined;
  #quiet: Array<() => void> = [];

  constructor(deps: BackupSchedulerDeps) {
    this.#d = deps;
  }

  start(): void {
    this.#stopped = false;
    this.replan();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#d.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    if (this.#sleep) {
      this.#d.clock.clearTimer(this.#sleep.timer);
      this.#sleep.wake();
    }
  }

  /**
   * Resolves when no run is in progress or the run waits on the clock (a backoff): tests advance
   * their fake clock, then wait for this.
   */
  idle(): Promise<void> {
    if (!this.#running || this.#sleep) return Promise.resolve();
    return new Promise((resolve) => this.#quiet.push(resolve));
  }

  /** Plans the next wake-up from the stored schedule (after a settings change, at start, after a run). */
  replan(): void {
    if (this.#stopped || this.#running) return; // a run in progress plans again when it ends
    if (this.#timer !== undefined) this.#d.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    if (!this.#d.repo.settings().enabled) return;
    const due = [
      this.#d.repo.state().nextRunAt,
      // A pending copy without a retry time was cut short (a restart): due now.
      ...this.#d.repo.targets().map((t) => (t.pendingBackupId ? (t.nextRetryAt ?? 0) : null)),
    ].filter((t): t is number => t !== null);
    const delay = Math.min(Math.max(Math.min(...due) - this.#d.clock.now(), 0), RECHECK_MS);
    this.#timer = this.#d.clock.setTimer(() => this.#wake(), delay);
  }

  #wake(): void {
    this.#timer = undefined;
    if (this.#stopped) return;
    this.#running = this.#tick()
      .catch((err) => this.#d.log('error', { err: failureText(err) }, 'backup schedule run failed'))
      .finally(() => {
        this.#running = undefined;
        this.#settled();
        this.replan();
      });
  }

  #settled(): void {
    const q = this.#quiet;
    this.#quiet = [];
    for (const fn of q) fn();
  }

  async #tick(): Promise<void> {
    const s = this.#d.repo.settings();
    if (!s.enabled) return;
    const now = this.#d.clock.now();
    const due = this.#d.repo.state().nextRunAt;
    if (due !== null && now >= due) {
      await this.#scheduledBackup();
      return;
    }
    for (const t of this.#d.repo.targets())
      if (t.pendingBackupId && now >= (t.nextRetryAt ?? 0) && !this.#stopped)
        await this.#copy(t, t.pendingBackupId);
  }

  async #scheduledBackup(): Promise<void> {
    const { repo, clock, source } = this.#d;
    const s = repo.settings();
    const now = clock.now();
    const at = new Date(now).toISOString();
    // Planned first: a crash during the run does not start it again at once, over and over.
    const state: ScheduleState = { ...repo.state(), nextRunAt: nextSlot(now, s.hour) };
    repo.saveState(state);
    // Results are written over what is stored then: the owner may have changed the schedule meanwhile.
    const failed = (message: string) => {
      repo.saveState({ ...repo.state(), lastRunAt: at, lastError: message });
      this.#d.audit.record({
        source: 'backup',
        action: 'scheduled backup failed',
        outcome: 'failure',
        detail: message,
      });
      this.#d.log('error', { error: message }, 'the scheduled backup failed');
    };
    if (!source) return failed('no backup engine runs in this process');
    const passphrase = this.#d.passphrase.read();
    const encryption = s.recipient ? { recipient: s.recipient } : passphrase ? { passphrase } : undefined;
    const targets = repo.targets();
    if (!encryption && targets.length > 0)
      return failed('no recipient or passphrase is set: backups are not copied to targets unencrypted');
    let id: string;
    try {
      ({ backup_id: id } = await source.create({ ...encryption, origin: 'schedule' }));
      const job = await source.wait(id);
      if (job.phase !== 'done') return failed(failureText(job.error ?? 'the backup failed', [passphrase]));
    } catch (err) {
      if (err instanceof AppError && err.code === 'conflict') {
        // A manual backup or a restore is running: this day's backup waits for it, not for tomorrow.
        const retry = Math.min(now + BUSY_RETRY_MS, state.nextRunAt!);
        repo.saveState({
          ...repo.state(),
          nextRunAt: retry,
          lastError: 'another backup or restore was running',
        });
        this.#d.log('warn', {}, 'the scheduled backup waits for another backup or restore');
        return;
      }
      return failed(failureText(err, [passphrase]));
    }
    repo.addScheduled(id, at);
    repo.saveState({ ...repo.state(), lastRunAt: at, lastBackupId: id, lastError: null });
    this.#d.audit.record({ source: 'backup', action: 'scheduled backup', target: id });
    this.#d.log('info', { backup_id: id }, 'scheduled backup made');
    await this.#pruneLocal(source);
    // The new backup replaces whatever older one was still waiting to be copied.
    for (const t of targets) repo.setPending(t.id, id, null);
    for (const t of targets) {
      if (this.#stopped) return;
      const current = repo.target(t.id);
      if (current) await this.#copy(current, id);
    }
  }

  async #pruneLocal(source: BackupSource): Promise<void> {
    const s = this.#d.repo.settings();
    try {
      const mine = new Set(this.#d.repo.scheduled().map((b) => b.id));
      const list: BackupListItem[] = await source.list();
      const dated = list
        .filter((b) => mine.has(b.backup_id))
        .map((b) => ({ id: b.backup_id, created_at: b.created_at }));
      for (const id of backupsToDelete(dated, { daily: s.keepDaily, weekly: s.keepWeekly }))
        await source.remove(id);
    } catch (err) {
      this.#retentionFailed('this cell', failureText(err));
    }
  }

  /** Copies one backup to one target (3 tries), records the result, then prunes the target. */
  async #copy(t: StoredTarget, id: string): Promise<void> {
    const secret = this.#d.targetSecret(t.id).read();
    const target = this.#d.targets(t.spec, secret, t.id);
    let error: string | undefined;
    let gone = false;
    for (let i = 0; i <= COPY_BACKOFF_MS.length; i++) {
      if (i > 0) await this.#wait(COPY_BACKOFF_MS[i - 1]!);
      if (this.#stopped) return;
      try {
        await this.#upload(target, id);
        error = undefined;
        break;
      } catch (err) {
        error = failureText(err, [secret]);
        // The backup was removed (by the owner): no retry can copy it.
        gone = err instanceof AppError && err.code === 'not_found';
        if (gone) break;
      }
    }
    if (!this.#d.repo.target(t.id)) return; // removed while it was being copied
    const now = this.#d.clock.now();
    const at = new Date(now).toISOString();
    const where = describe(t);
    if (error === undefined) {
      this.#d.repo.saveResult(t.id, { at, ok: true, error: null, backup_id: id });
      this.#d.repo.setPending(t.id, null, null);
      this.#d.log('info', { target: where, backup_id: id }, 'backup copied to its target');
      await this.#pruneTarget(t, target);
      return;
    }
    this.#d.repo.saveResult(t.id, { at, ok: false, error, backup_id: id });
    this.#d.repo.setPending(t.id, gone ? null : id, gone ? null : now + COPY_RETRY_MS);
    this.#d.audit.record({
      source: 'backup',
      action: 'backup copy failed',
      target: where,
      outcome: 'failure',
      detail: `${id}: ${error}`,
    });
    this.#d.log('error', { target: where, backup_id: id, error }, 'could not copy the backup to its target');
  }

  async #upload(target: ReturnType<BackupTargetFactory>, id: string): Promise<void> {
    const { stream, size, file } = await this.#d.source!.open(id);
    try {
      const base = file?.split('/').pop();
      const name = base?.startsWith(id) && TARGET_OBJECT_NAME.test(base) ? base : `${id}.tar.gz.age`;
      await target.put(name, stream, size);
    } finally {
      stream.destroy();
    }
  }

  async #pruneTarget(t: StoredTarget, target: ReturnType<BackupTargetFactory>): Promise<void> {
    const s = this.#d.repo.settings();
    try {
      const made = new Map(this.#d.repo.scheduled().map((b) => [b.id, b.created_at]));
      const dated = (await target.list()).flatMap((o) => {
        const created = made.get(backupIdOfObject(o.name) ?? '');
        return created ? [{ id: o.name, created_at: created }] : [];
      });
      for (const name of backupsToDelete(dated, { daily: s.keepDaily, weekly: s.keepWeekly }))
        await target.remove(name);
    } catch (err) {
      this.#retentionFailed(describe(t), failureText(err, [this.#d.targetSecret(t.id).read()]));
    }
  }

  #retentionFailed(where: string, error: string): void {
    this.#d.audit.record({
      source: 'backup',
      action: 'backup retention failed',
      target: where,
      outcome: 'failure',
      detail: error,
    });
    this.#d.log('warn', { target: where, error }, 'could not remove old scheduled backups');
  }

  /** A backoff wait on the clock; stop() ends it early. */
  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.#sleep = undefined;
        resolve();
      };
      this.#sleep = { timer: this.#d.clock.setTimer(wake, ms), wake };
      this.#settled();
    });
  }
}

const describe = (t: StoredTarget) =>
  t.spec.kind === 'directory'
    ? `target ${t.id} (directory ${t.spec.path})`
    : `target ${t.id} (s3 ${t.spec.bucket}${t.spec.prefix ? `/${t.spec.prefix}` : ''})`;
