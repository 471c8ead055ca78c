// What the backup scheduler keeps in SQLite (drivers/store/backup-schedule-store.ts): the schedule,
// the targets and each one's last copy, and the ids of the backups the schedule made (retention
// touches those only). Secrets are not here: they are 0600 files under data/secrets/backup/.
import type { BackupTargetSpec, TargetResult } from '../../schema/backup-schedule.ts';

export interface ScheduleSettings {
  enabled: boolean;
  hour: number;
  keepDaily: number;
  keepWeekly: number;
  recipient: string | null;
}

export interface ScheduleState {
  /** Epoch ms of the next scheduled backup; null when off. */
  nextRunAt: number | null;
  lastRunAt: string | null;
  lastBackupId: string | null;
  lastError: string | null;
}

export interface StoredTarget {
  id: number;
  spec: BackupTargetSpec;
  createdAt: string;
  lastResult: TargetResult | null;
  /** The scheduled backup still to copy here; null when up to date. */
  pendingBackupId: string | null;
  /** Epoch ms of the next retry of the pending copy. */
  nextRetryAt: number | null;
}

/** A stored target whose fields fail the schema (a crafted or damaged restore): never used. */
export interface InvalidTarget {
  id: number;
  kind: string;
  /** Why it was refused (the field and the rule). */
  error: string;
}

export interface BackupScheduleRepository {
  settings(): ScheduleSettings;
  saveSettings(s: ScheduleSettings): void;
  state(): ScheduleState;
  saveState(s: ScheduleState): void;
  /** The stored targets that pass the schema again on read; the others are left out. */
  targets(): StoredTarget[];
  target(id: number): StoredTarget | undefined;
  /** The stored targets that fail the schema: never copied to, never mounted. */
  invalidTargets(): InvalidTarget[];
  addTarget(spec: BackupTargetSpec, createdAt: string): StoredTarget;
  removeTarget(id: number): boolean;
  saveResult(id: number, result: TargetResult): void;
  setPending(id: number, backupId: string | null, nextRetryAt: number | null): void;
  /** A backup the schedule made, with its creation time. */
  addScheduled(backupId: string, createdAt: string): void;
  scheduled(): Array<{ id: string; created_at: string }>;
}
