// Backups and restores as background jobs, one at a time (ADR 0021). A job's progress is kept in
// memory for GET /api/config/backups/<id>: a job does not outlive the process, and a backup or a
// restore a crash stopped is cleaned up (or finished, for a committed restore) at the next start.
import type { Readable } from 'node:stream';
import { BACKUP_FORMAT, type BackupJob, type BackupListItem, type JobPhase } from '../../schema/backup.ts';
import type { AuditService } from '../audit-service.ts';
import { AppError, conflict, notFound } from '../errors.ts';
import type { BackupEnginePort, BackupKey, ProgressFn, RunningJob } from '../ports/backup-engine.ts';

export interface BackupServiceDeps {
  engine: BackupEnginePort;
  version: string;
  identity: () => { cell_name: string; domain: string };
  audit: AuditService;
  /** After a restore's swap: reload what is cached and apply every daemon's configuration again. */
  afterRestore: () => Promise<void>;
  /**
   * After the swap, before the volumes: the restored store services are made to run here (their
   * images built again where the machine is new), so their volumes have containers to go into.
   */
  beforeVolumes?: () => Promise<void>;
  /**
   * After the volumes went back in: the services holding them restart, so their daemons read the
   * restored data from the start (caches, indexes) and make again the sockets an import removed.
   */
  afterVolumes?: () => Promise<void>;
  uploadMaxBytes: number;
  /**
   * A job this cell's last process was running when it was stopped (found at start): shown as the
   * last job, failed as interrupted, or done when its restore was finished from the journal.
   */
  interrupted?: { job: RunningJob; finishedFromJournal: boolean };
  now?: () => Date;
  log?: (level: 'info' | 'warn' | 'error', fields: Record<string, unknown>, msg: string) => void;
}

export type Origin = 'api' | 'cli' | 'schedule';

export class BackupService {
  readonly #d: BackupServiceDeps;
  readonly #now: () => Date;
  /** The running job and the last one of each backup id. */
  readonly #jobs = new Map<string, BackupJob>();
  #running: { id: string; done: Promise<BackupJob> } | undefined;
  #last: string | undefined;
  #restoredEnv: string | undefined;
  #opening = false;

  constructor(deps: BackupServiceDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => new Date());
    if (deps.interrupted) this.#interrupted(deps.interrupted.job, deps.interrupted.finishedFromJournal);
  }

  #interrupted(was: RunningJob, finished: boolean): void {
    const done = was.kind === 'restore' && (finished || was.committed === true);
    const error = done
      ? null
      : was.kind === 'backup'
        ? 'interrupted: the process stopped during the backup (killed, crashed or restarted); no archive was written and its temp files were removed'
        : 'interrupted: the process stopped during the restore (killed, crashed or restarted) before it was committed; the cell is as it was and the staging directory was removed';
    const job: BackupJob = {
      backup_id: was.backup_id,
      kind: was.kind,
      phase: done ? 'done' : 'failed',
      bytes_done: 0,
      bytes_total: null,
      started_at: was.started_at,
      finished_at: this.#now().toISOString(),
      error,
      notes: done
        ? [
            'The process stopped during the restore after it was committed; its start finished it (from the journal where one was left) and applied the configuration again.',
          ]
        : [],
    };
    this.#jobs.set(was.backup_id, job);
    this.#last = was.backup_id;
    this.#d.audit.record({
      source: 'api',
      action: was.kind === 'backup' ? 'backup failed' : done ? 'backup restored' : 'restore failed',
      target: was.backup_id,
      outcome: done ? 'success' : 'failure',
      detail: done ? 'finished from its journal at start after the process stopped' : error!,
    });
  }

  list(): { backups: BackupListItem[]; job: BackupJob | null } {
    return { backups: this.#d.engine.list(), job: this.#last ? this.#copy(this.#last) : null };
  }

  detail(id: string): { backup: BackupListItem | null; job: BackupJob | null } {
    const backup = this.#d.engine.get(id) ?? null;
    const job = this.#copy(id);
    if (!backup && !job) throw notFound('Backup');
    return { backup, job };
  }

  /** Starts a backup in the background; 409 while another backup or restore runs. */
  create(opts: BackupKey & { origin: Origin }): { backup_id: string } {
    this.#idle();
    const lock = this.#lock();
    const id = this.#d.engine.newId(this.#now());
    const job = this.#start(id, 'backup');
    const key: BackupKey = {
      ...(opts.passphrase !== undefined ? { passphrase: opts.passphrase } : {}),
      ...(opts.recipients?.length ? { recipients: opts.recipients } : {}),
    };
    const header = {
      format: BACKUP_FORMAT,
      pic_version: this.#d.version,
      created_at: this.#now().toISOString(),
      backup_id: id,
      cell: this.#d.identity(),
    };
    this.#run(
      id,
      opts.origin,
      async () => {
        const item = await this.#d.engine.write(id, header, key, this.#progress(job), (t) =>
          job.notes.push(t),
        );
        this.#d.audit.record({
          source: opts.origin,
          action: 'backup created',
          target: id,
          outcome: 'success',
          detail: `${item.encrypted ? 'encrypted' : 'not encrypted'}, ${item.size} bytes`,
        });
      },
      lock,
    );
    return { backup_id: id };
  }

  /**
   * Checks the passphrase (a wrong one is a 400 naming it, before anything changes), then restores in
   * the background: stage and verify, swap, re-apply every daemon.
   */
  async restore(id: string, passphrase: string | undefined, origin: Origin): Promise<{ backup_id: string }> {
    this.#idle();
    if (this.#opening) throw new AppError('conflict', 'A restore is checking its passphrase; wait for it');
    if (!this.#d.engine.get(id)) throw notFound('Backup');
    // One passphrase check at a time: each runs scrypt (up to 1 GiB of memory at age's highest work
    // factor), so parallel requests must not each start one.
    // Taken before the passphrase check: no backup may start here or elsewhere while it runs.
    const lock = this.#lock();
    this.#opening = true;
    let handle: Awaited<ReturnType<BackupEnginePort['openRestore']>>;
    try {
      handle = await this.#d.engine.openRestore(id, passphrase);
    } catch (err) {
      lock?.release();
      throw err;
    } finally {
      this.#opening = false;
    }
    // Checked again (an engine without a lock): a backup may have started during the check (scrypt).
    if (this.#running) {
      await handle.discard();
      lock?.release();
      this.#idle();
    }
    const job = this.#start(id, 'restore');
    const progress = this.#progress(job);
    this.#run(
      id,
      origin,
      async () => {
        let committed = false;
        let volumesFailed: unknown;
        try {
          const staged = await handle.stage(progress);
          progress('verifying', job.bytes_done, job.bytes_total);
          try {
            await handle.commit(progress);
          } catch (err) {
            // The journal was written before the swap failed: the next start finishes it (ADR 0021).
            const why = err instanceof Error ? err.message : String(err);
            throw new Error(
              `the restore was verified but swapping it in stopped (${why}); restart cell-api (\`./pic restart api\`): its start finishes a swap that had begun, or keeps the cell as it was`,
            );
          }
          committed = true;
          this.#d.engine.markJob?.({ backup_id: id, kind: 'restore', started_at: job.started_at, committed });
          this.#restoredEnv = staged.env;
          const env = this.#d.engine.currentEnv();
          if (staged.env !== undefined && env !== undefined && staged.env.trim() !== env.trim())
            job.notes.push(
              "The backup's .env differs from this machine's; this machine's was kept (`pic restore` on the host takes the backup's).",
            );
          // The volumes are read from staging, so before discard(). One that fails does not undo the
          // swap: the cell is re-applied below all the same, and the job then fails naming it.
          await this.#d
            .beforeVolumes?.()
            .catch((err: unknown) =>
              job.notes.push(`Recreating the store's services failed: ${(err as Error).message}`),
            );
          volumesFailed = await handle
            .restoreVolumes(progress, (t) => job.notes.push(t))
            .then(
              () => undefined,
              (err: unknown) => err ?? new Error('restoring the volumes failed'),
            );
          await this.#d
            .afterVolumes?.()
            .catch((err: unknown) =>
              job.notes.push(`Restarting the store's services failed: ${(err as Error).message}`),
            );
        } finally {
          await handle.discard();
        }
        if (committed) {
          progress('reapplying', job.bytes_done, job.bytes_total);
          await this.#d.afterRestore();
          this.#d.audit.record({
            source: origin,
            action: 'backup restored',
            target: id,
            outcome: 'success',
            detail: 'every session ended',
          });
        }
        if (volumesFailed) throw volumesFailed;
      },
      lock,
    );
    return { backup_id: id };
  }

  /** The .env the last completed restore carried (the host command writes it; the API cannot). */
  lastRestoredEnv(): string | undefined {
    return this.#restoredEnv;
  }

  /** Resolves when the job of this id has ended (done or failed). */
  async wait(id: string): Promise<BackupJob> {
    if (this.#running?.id === id) return this.#running.done;
    const job = this.#copy(id);
    if (!job) throw notFound('Backup job');
    return job;
  }

  download(id: string): { stream: Readable; size: number; file: string } {
    const file = this.#d.engine.open(id);
    if (!file) throw notFound('Backup');
    return file;
  }

  async upload(body: Readable, origin: Origin): Promise<{ backup_id: string }> {
    const id = await this.#d.engine.upload(body, this.#d.uploadMaxBytes, this.#now());
    this.#d.audit.record({ source: origin, action: 'backup uploaded', target: id, outcome: 'success' });
    return { backup_id: id };
  }

  remove(id: string, origin: Origin): void {
    if (this.#running?.id === id) throw conflict('This backup is in use by a running job');
    if (!this.#d.engine.remove(id)) throw notFound('Backup');
    this.#d.audit.record({ source: origin, action: 'backup deleted', target: id, outcome: 'success' });
  }

  #idle(): void {
    if (this.#running)
      throw new AppError(
        'conflict',
        `A ${this.#jobs.get(this.#running.id)?.kind ?? 'backup'} is running (${this.#running.id}); wait for it to end`,
      );
  }

  #start(id: string, kind: BackupJob['kind']): BackupJob {
    const job: BackupJob = {
      backup_id: id,
      kind,
      phase: 'queued',
      bytes_done: 0,
      bytes_total: null,
      started_at: this.#now().toISOString(),
      finished_at: null,
      error: null,
      notes: [],
    };
    this.#jobs.set(id, job);
    this.#last = id;
    return job;
  }

  #progress(job: BackupJob): ProgressFn {
    return (phase, done, total) => {
      job.phase = phase as JobPhase;
      job.bytes_done = done;
      job.bytes_total = total;
    };
  }

  /** The cross-process lock (409 when another process runs a job); undefined for an engine without one. */
  #lock(): { release(): void } | undefined {
    const lock = this.#d.engine.lock?.();
    if (lock === null)
      throw new AppError(
        'conflict',
        'A backup or restore is running in another process (cell-api, or `pic backup` / `pic restore` on the host); wait for it to end',
      );
    return lock;
  }

  #run(id: string, origin: Origin, work: () => Promise<void>, lock?: { release(): void }): void {
    const job = this.#jobs.get(id)!;
    const done = (async () => {
      try {
        this.#d.engine.markJob?.({ backup_id: id, kind: job.kind, started_at: job.started_at });
        await work();
        job.phase = 'done';
      } catch (err) {
        job.phase = 'failed';
        job.error = err instanceof Error ? err.message : String(err);
        this.#d.log?.('error', { backup_id: id, kind: job.kind, err: job.error }, `${job.kind} failed`);
        this.#d.audit.record({
          source: origin,
          action: job.kind === 'backup' ? 'backup failed' : 'restore failed',
          target: id,
          outcome: 'failure',
          detail: job.error,
        });
      } finally {
        job.finished_at = this.#now().toISOString();
        this.#running = undefined;
        try {
          this.#d.engine.markJob?.(undefined);
        } catch {
          // the next start reports the job interrupted: not worth failing this one
        }
        lock?.release();
      }
      return { ...job, notes: [...job.notes] };
    })();
    this.#running = { id, done };
  }

  #copy(id: string): BackupJob | null {
    const job = this.#jobs.get(id);
    return job ? { ...job, notes: [...job.notes] } : null;
  }
}
