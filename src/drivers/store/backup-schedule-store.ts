// Thin SQL over backup_schedule (one row), backup_targets and backup_scheduled (migration "backup
// schedule and targets"): core's BackupScheduleRepository. No secret is stored here.
import type {
  BackupScheduleRepository,
  InvalidTarget,
  ScheduleSettings,
  ScheduleState,
  StoredTarget,
} from '../../core/ports/backup-schedule-repository.ts';
import { type BackupTargetSpec, storedTargetSpec, type TargetResult } from '../../schema/backup-schedule.ts';
import { type Db, stmt } from '../db.ts';

interface ScheduleRow {
  enabled: number;
  hour: number;
  keep_daily: number;
  keep_weekly: number;
  recipient: string | null;
  next_run_at: number | null;
  last_run_at: string | null;
  last_backup_id: string | null;
  last_error: string | null;
}

const DEFAULT_ROW: ScheduleRow = {
  enabled: 0,
  hour: 3,
  keep_daily: 7,
  keep_weekly: 4,
  recipient: null,
  next_run_at: null,
  last_run_at: null,
  last_backup_id: null,
  last_error: null,
};

/**
 * A row's fields, checked again with the API's schema: a restored database may carry rows no schema
 * ever saw (a crafted backup with {"path":"/etc"} must not become a target that is mounted).
 */
function parseSpec(r: Record<string, unknown>): { spec: BackupTargetSpec } | { error: string } {
  let fields: unknown;
  try {
    fields = JSON.parse(String(r.spec));
  } catch {
    return { error: 'spec: is not JSON' };
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields))
    return { error: 'spec: is not an object' };
  const parsed = storedTargetSpec.safeParse({ ...fields, kind: r.kind });
  if (parsed.success) return { spec: parsed.data };
  return {
    error: parsed.error.issues.map((i) => `${i.path.join('.') || 'spec'}: ${i.message}`).join('; '),
  };
}

const toTarget = (r: Record<string, unknown>, spec: BackupTargetSpec): StoredTarget => ({
  id: Number(r.id),
  spec,
  createdAt: String(r.created_at),
  lastResult:
    r.last_at === null
      ? null
      : {
          at: String(r.last_at),
          ok: r.last_ok === 1,
          error: (r.last_error as string | null) ?? null,
          backup_id: (r.last_backup_id as string | null) ?? null,
        },
  pendingBackupId: (r.pending_backup_id as string | null) ?? null,
  nextRetryAt: r.next_retry_at === null ? null : Number(r.next_retry_at),
});

/** The row as a target, or undefined when its fields fail the schema. */
function validTarget(r: Record<string, unknown>): StoredTarget | undefined {
  const p = parseSpec(r);
  return 'spec' in p ? toTarget(r, p.spec) : undefined;
}

export class BackupScheduleStore implements BackupScheduleRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  #row(): ScheduleRow {
    return (
      (stmt(this.#db, 'SELECT * FROM backup_schedule WHERE id = 1').get() as ScheduleRow | undefined) ??
      DEFAULT_ROW
    );
  }

  #ensureRow(): void {
    stmt(this.#db, 'INSERT INTO backup_schedule (id) VALUES (1) ON CONFLICT(id) DO NOTHING').run();
  }

  settings(): ScheduleSettings {
    const r = this.#row();
    return {
      enabled: r.enabled === 1,
      hour: r.hour,
      keepDaily: r.keep_daily,
      keepWeekly: r.keep_weekly,
      recipient: r.recipient,
    };
  }

  saveSettings(s: ScheduleSettings): void {
    this.#ensureRow();
    stmt(
      this.#db,
      'UPDATE backup_schedule SET enabled = ?, hour = ?, keep_daily = ?, keep_weekly = ?, recipient = ? WHERE id = 1',
    ).run(s.enabled ? 1 : 0, s.hour, s.keepDaily, s.keepWeekly, s.recipient);
  }

  state(): ScheduleState {
    const r = this.#row();
    return {
      nextRunAt: r.next_run_at,
      lastRunAt: r.last_run_at,
      lastBackupId: r.last_backup_id,
      lastError: r.last_error,
    };
  }

  saveState(s: ScheduleState): void {
    this.#ensureRow();
    stmt(
      this.#db,
      'UPDATE backup_schedule SET next_run_at = ?, last_run_at = ?, last_backup_id = ?, last_error = ? WHERE id = 1',
    ).run(s.nextRunAt, s.lastRunAt, s.lastBackupId, s.lastError);
  }

  targets(): StoredTarget[] {
    return stmt(this.#db, 'SELECT * FROM backup_targets ORDER BY id')
      .all()
      .flatMap((r) => validTarget(r) ?? []);
  }

  invalidTargets(): InvalidTarget[] {
    return stmt(this.#db, 'SELECT * FROM backup_targets ORDER BY id')
      .all()
      .flatMap((r) => {
        const p = parseSpec(r);
        return 'error' in p ? [{ id: Number(r.id), kind: String(r.kind), error: p.error }] : [];
      });
  }

  target(id: number): StoredTarget | undefined {
    const r = stmt(this.#db, 'SELECT * FROM backup_targets WHERE id = ?').get(id);
    return r ? validTarget(r) : undefined;
  }

  addTarget(spec: BackupTargetSpec, createdAt: string): StoredTarget {
    const { kind, ...fields } = spec;
    const row = stmt(
      this.#db,
      'INSERT INTO backup_targets (kind, spec, created_at) VALUES (?, ?, ?) RETURNING *',
    ).get(kind, JSON.stringify(fields), createdAt) as Record<string, unknown>;
    return toTarget(row, spec);
  }

  removeTarget(id: number): boolean {
    return Number(stmt(this.#db, 'DELETE FROM backup_targets WHERE id = ?').run(id).changes) > 0;
  }

  saveResult(id: number, r: TargetResult): void {
    stmt(
      this.#db,
      'UPDATE backup_targets SET last_at = ?, last_ok = ?, last_error = ?, last_backup_id = ? WHERE id = ?',
    ).run(r.at, r.ok ? 1 : 0, r.error, r.backup_id, id);
  }

  setPending(id: number, backupId: string | null, nextRetryAt: number | null): void {
    stmt(this.#db, 'UPDATE backup_targets SET pending_backup_id = ?, next_retry_at = ? WHERE id = ?').run(
      backupId,
      nextRetryAt,
      id,
    );
  }

  addScheduled(backupId: string, createdAt: string): void {
    stmt(
      this.#db,
      'INSERT INTO backup_scheduled (backup_id, created_at) VALUES (?, ?) ON CONFLICT(backup_id) DO NOTHING',
    ).run(backupId, createdAt);
  }

  scheduled(): Array<{ id: string; created_at: string }> {
    return (
      stmt(
        this.#db,
        'SELECT backup_id, created_at FROM backup_scheduled ORDER BY created_at',
      ).all() as Array<{
        backup_id: string;
        created_at: string;
      }>
    ).map((r) => ({ id: r.backup_id, created_at: r.created_at }));
  }
}
