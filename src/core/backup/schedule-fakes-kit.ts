// Fakes for the backup schedule's tests (not shipped behaviour). FakeBackupSource answers what the
// backup engine would, without an archive: each backup is a few bytes named by a real-looking id on
// the test's clock; a manual backup can be added beside the scheduled ones; faults on demand (a job
// running, a failed job). FakeClock is a clock the test moves by hand.
import { Readable } from 'node:stream';
import type { BackupJob, BackupListItem } from '../../schema/backup.ts';
import { AppError, notFound } from '../errors.ts';
import type { BackupSource } from '../ports/backup-source.ts';
import type { Clock } from '../ports/clock.ts';

export class FakeClock implements Clock {
  t: number;
  readonly timers = new Map<number, { at: number; fn: () => void }>();
  #id = 0;
  constructor(start: number) {
    this.t = start;
  }
  now = () => this.t;
  setTimer = (fn: () => void, ms: number) => {
    this.timers.set(++this.#id, { at: this.t + ms, fn });
    return this.#id;
  };
  clearTimer = (h: unknown) => {
    this.timers.delete(h as number);
  };
  /** Moves time on, firing each due timer in order and waiting for `settle` after each. */
  async advance(ms: number, settle: () => Promise<void>) {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.timers.entries()]
        .filter(([, v]) => v.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      due[1].fn();
      await settle();
    }
    this.t = end;
  }
}

interface Stored {
  data: Buffer;
  created_at: string;
  encrypted: boolean;
}

const stamp = (t: number) => new Date(t).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

export class FakeBackupSource implements BackupSource {
  readonly backups = new Map<string, Stored>();
  readonly created: Array<{ passphrase?: string; recipient?: string; origin: string }> = [];
  /** create() throws a conflict while true (a manual backup or a restore runs). */
  busy = false;
  /** The next job ends 'failed' with this error. */
  failNext: string | undefined;
  readonly #now: () => number;
  #seq = 0;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** A backup the schedule did not make (the owner's own). */
  addManual(): string {
    return this.#add(false);
  }

  create(opts: { passphrase?: string; recipient?: string; origin: 'schedule' }): { backup_id: string } {
    if (this.busy) throw new AppError('conflict', 'A backup or a restore is running');
    this.created.push({ ...opts });
    return { backup_id: this.#add(opts.passphrase !== undefined || opts.recipient !== undefined) };
  }

  async wait(id: string): Promise<BackupJob> {
    const error = this.failNext ?? null;
    this.failNext = undefined;
    if (error) this.backups.delete(id);
    const at = new Date(this.#now()).toISOString();
    return {
      backup_id: id,
      kind: 'backup',
      phase: error ? 'failed' : 'done',
      notes: [],
      bytes_done: 0,
      bytes_total: null,
      started_at: at,
      finished_at: at,
      error,
    };
  }

  list(): BackupListItem[] {
    return [...this.backups].map(([id, b]) => ({
      backup_id: id,
      file: `${id}.tar.gz${b.encrypted ? '.age' : ''}`,
      size: b.data.length,
      created_at: b.created_at,
      encrypted: b.encrypted,
    }));
  }

  open(id: string): { stream: Readable; size: number; file: string } {
    const b = this.backups.get(id);
    if (!b) throw notFound('Backup');
    return {
      stream: Readable.from([b.data]),
      size: b.data.length,
      file: `/data/backups/${id}.tar.gz${b.encrypted ? '.age' : ''}`,
    };
  }

  remove(id: string): void {
    if (!this.backups.delete(id)) throw notFound('Backup');
  }

  #add(encrypted: boolean): string {
    const id = `backup-${stamp(this.#now())}-${(++this.#seq).toString(16).padStart(6, '0')}`;
    const created_at = new Date(this.#now()).toISOString();
    this.backups.set(id, { data: Buffer.from(`archive ${id}\n`), created_at, encrypted });
    return id;
  }
}
