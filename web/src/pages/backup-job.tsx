// What the Backups page shares: the API's types, sizes in human units, and a running job's progress
// (a backup or a restore), polled every second from GET /api/config/backups/<id> until it ends.
import { useQuery } from '@tanstack/react-query';
import { ApiError, api, call } from '../api/client';
import type { paths } from '../api/schema';

type BackupsList = paths['/api/config/backups']['get']['responses']['200']['content']['application/json'];
export type Backup = BackupsList['backups'][number];
export type BackupJob = NonNullable<BackupsList['job']>;

export const BACKUPS_KEY = ['backups'];

export const asError = (e: unknown) => (e instanceof ApiError ? e : new ApiError(0, { message: String(e) }));

export const jobEnded = (job: BackupJob) => job.phase === 'done' || job.phase === 'failed';

const PHASES: Record<BackupJob['phase'], string> = {
  queued: 'Waiting to start',
  database: 'Copying the database',
  files: 'Copying the data files',
  volumes: 'Copying the services’ data',
  writing: 'Writing the archive',
  unpacking: 'Unpacking the archive',
  verifying: 'Checking every file against the manifest',
  vault: 'Restoring the certificate authority',
  identity: 'Restoring the cell’s identity',
  database_swap: 'Replacing the database',
  volumes_restore: 'Restoring the services’ data',
  reapplying: 'Applying the restored configuration',
  done: 'Done',
  failed: 'Failed',
};

/** 1536 → "1.5 KiB": binary units, three significant digits. */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${n} ${n === 1 ? 'byte' : 'bytes'}`;
  return `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${units[unit]}`;
}

/** The job of one backup id while it runs, then its end state (polling stops). */
export function useBackupJob(id: string | undefined) {
  return useQuery({
    queryKey: ['backup-job', id],
    queryFn: () => call(api.GET('/api/config/backups/{id}', { params: { path: { id: id! } } })),
    enabled: id !== undefined,
    refetchInterval: (q) => {
      const job = q.state.data?.job;
      return job && jobEnded(job) ? false : 1000;
    },
    retry: false,
  });
}

/** A progress bar with the phase and bytes; indeterminate until the total is known. */
export function ProgressBar({ label, done, total }: { label: string; done: number; total: number | null }) {
  const percent = total ? Math.min(100, Math.round((done / total) * 100)) : undefined;
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
      className="h-2.5 w-full overflow-hidden rounded bg-slate-200 dark:bg-slate-700"
    >
      <div
        className={`h-full rounded bg-indigo-600 transition-[width] ${percent === undefined ? 'w-1/3 animate-pulse' : ''}`}
        style={percent === undefined ? undefined : { width: `${percent}%` }}
      />
    </div>
  );
}

export function JobProgress({ job }: { job: BackupJob }) {
  const what = job.kind === 'backup' ? 'Backup' : 'Restore';
  return (
    <div data-testid="backup-job">
      <p className="mb-2 text-sm" role="status">
        {what} of <span className="font-mono">{job.backup_id}</span>: <strong>{PHASES[job.phase]}</strong>
        {' · '}
        {formatBytes(job.bytes_done)}
        {job.bytes_total !== null ? ` of ${formatBytes(job.bytes_total)}` : ''}
      </p>
      <ProgressBar label={`${what} progress`} done={job.bytes_done} total={job.bytes_total} />
    </div>
  );
}
