// Settings → Backups: make a backup (optionally encrypted), follow a running backup or restore, list the
// archives on this machine to download, delete or restore, and upload one. A finished restore has ended
// every session, so the page then sends the user to the login page.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { api, call, setCsrfToken } from '../api/client';
import { ErrorBanner } from '../components/field';
import { SettingsHeader } from '../components/settings-header';
import { navigate } from '../router';
import { CreateBackupForm } from './backup-create-form';
import {
  asError,
  BACKUPS_KEY,
  type Backup,
  type BackupJob,
  formatBytes,
  JobProgress,
  jobEnded,
  useBackupJob,
} from './backup-job';
import { RESTORE_FLAG, RestoreDialog } from './backup-restore-dialog';
import { BackupScheduleCard } from './backup-schedule-card';
import { UploadBackup } from './backup-upload';

const jobKey = (j: BackupJob) => `${j.kind}:${j.backup_id}:${j.started_at}`;

/** The watched job: running, or how it ended (with a way to dismiss that). */
function JobCard({
  job,
  backup,
  onDismiss,
}: {
  job: BackupJob;
  backup: Backup | null | undefined;
  onDismiss: () => void;
}) {
  const what = job.kind === 'backup' ? 'Backup' : 'Restore';
  return (
    <section className="card" aria-label={`${what} job`}>
      {job.phase === 'failed' ? (
        <ErrorBanner message={`${what} of ${job.backup_id} failed: ${job.error ?? 'no reason given'}`} />
      ) : job.phase === 'done' ? (
        <p role="status" className="mb-3 text-sm text-green-700 dark:text-green-400">
          {job.kind === 'backup'
            ? `Backup ${job.backup_id} is ready${backup ? ` (${formatBytes(backup.size)})` : ''}.`
            : 'Restored. Taking you to the login page…'}
        </p>
      ) : (
        <div className="mb-3">
          <JobProgress job={job} />
        </div>
      )}
      <JobNotes job={job} />
      {jobEnded(job) ? (
        <button type="button" className="btn-secondary" onClick={onDismiss}>
          Dismiss
        </button>
      ) : null}
    </section>
  );
}

/** What the owner should know about a finished job (e.g. a restore kept this machine's .env). */
function JobNotes({ job }: { job: BackupJob }) {
  if (!job.notes.length) return null;
  return (
    <ul className="mb-3 list-disc pl-6 text-sm">
      {job.notes.map((n) => (
        <li key={n}>{n}</li>
      ))}
    </ul>
  );
}

function BackupRow({ backup, busy, onRestore }: { backup: Backup; busy: boolean; onRestore: () => void }) {
  const qc = useQueryClient();
  const remove = useMutation({
    mutationFn: () =>
      call(api.DELETE('/api/config/backups/{id}', { params: { path: { id: backup.backup_id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: BACKUPS_KEY }),
  });
  return (
    <li className="flex flex-wrap items-center justify-between gap-3 py-3" data-testid="backup-row">
      <div className="min-w-0">
        <div className="break-all font-mono text-sm">{backup.backup_id}</div>
        <div className="text-xs text-slate-500">
          {new Date(backup.created_at).toLocaleString()} · {formatBytes(backup.size)} ·{' '}
          {backup.encrypted ? 'encrypted' : 'not encrypted'}
        </div>
        {remove.error ? <p className="field-error">{asError(remove.error).message}</p> : null}
      </div>
      <div className="flex flex-wrap gap-2">
        <a
          className="btn-secondary"
          href={`/api/config/backups/${encodeURIComponent(backup.backup_id)}/download`}
          download={backup.file}
          aria-label={`Download ${backup.backup_id}`}
        >
          Download
        </a>
        <button
          type="button"
          className="btn-secondary"
          disabled={busy}
          onClick={onRestore}
          aria-label={`Restore ${backup.backup_id}`}
        >
          Restore…
        </button>
        <button
          type="button"
          className="btn-secondary text-red-700 dark:text-red-400"
          disabled={remove.isPending}
          aria-label={`Delete ${backup.backup_id}`}
          onClick={() => {
            if (window.confirm(`Delete the backup ${backup.backup_id}? This cannot be undone.`))
              remove.mutate();
          }}
        >
          Delete
        </button>
      </div>
    </li>
  );
}

export function BackupsPage() {
  const qc = useQueryClient();
  const list = useQuery({ queryKey: BACKUPS_KEY, queryFn: () => call(api.GET('/api/config/backups')) });
  const [watching, setWatching] = useState<string | undefined>();
  const [restoring, setRestoring] = useState<Backup | undefined>();
  const detail = useBackupJob(watching);
  const job = watching ? detail.data?.job : undefined;
  const last = list.data?.job;
  /** Follow a job from its start (a finished poll of the same id must not stand for the new job). */
  const follow = (id: string) => {
    void qc.resetQueries({ queryKey: ['backup-job', id] });
    setWatching(id);
  };

  // A job already running when the page opens (a schedule's, or one from before a reload) is followed too.
  useEffect(() => {
    if (last && !jobEnded(last) && !watching) setWatching(last.backup_id);
  }, [last, watching]);

  // Act once on a job seen running that has now ended (never on an old job the list reports).
  const seenRunning = useRef(new Set<string>());
  useEffect(() => {
    if (!job) return;
    const key = jobKey(job);
    if (!jobEnded(job)) {
      seenRunning.current.add(key);
      return;
    }
    if (!seenRunning.current.delete(key)) return;
    void qc.invalidateQueries({ queryKey: BACKUPS_KEY });
    if (job.kind === 'restore' && job.phase === 'done') {
      // Every session ended with the restore: forget this one and log in as a restored user.
      setCsrfToken(undefined);
      qc.clear();
      qc.setQueryData(['me'], null);
      navigate('/login', true);
    } else if (job.kind === 'restore') {
      sessionStorage.removeItem(RESTORE_FLAG);
    }
  }, [job, qc]);

  const busy = job ? !jobEnded(job) : last ? !jobEnded(last) : false;
  const backups = [...(list.data?.backups ?? [])].sort((a, b) => b.created_at.localeCompare(a.created_at));

  return (
    <div className="space-y-6">
      <SettingsHeader />
      {job ? (
        <JobCard job={job} backup={detail.data?.backup} onDismiss={() => setWatching(undefined)} />
      ) : null}
      {!watching && last?.phase === 'failed' ? (
        <ErrorBanner
          message={`The last ${last.kind} (${last.backup_id}) failed: ${last.error ?? 'no reason given'}`}
        />
      ) : null}
      {!watching && last?.phase === 'done' && last.notes.length ? (
        <section className="card" aria-label={`Last ${last.kind}`}>
          <p className="mb-2 text-sm">
            The last {last.kind} ({last.backup_id}) finished on{' '}
            {new Date(last.finished_at ?? last.started_at).toLocaleString()}:
          </p>
          <JobNotes job={last} />
        </section>
      ) : null}
      <ErrorBanner message={detail.error ? asError(detail.error).message : undefined} />
      <CreateBackupForm busy={busy} onStarted={follow} />
      <section className="card" aria-labelledby="backups-heading">
        <h2 id="backups-heading" className="mb-3 font-semibold">
          Backups on this cell
        </h2>
        <ErrorBanner message={list.error ? asError(list.error).message : undefined} />
        {list.data && backups.length === 0 ? <p className="text-sm text-slate-500">No backup yet.</p> : null}
        <ul className="divide-y divide-slate-200 dark:divide-slate-800">
          {backups.map((b) => (
            <BackupRow key={b.backup_id} backup={b} busy={busy} onRestore={() => setRestoring(b)} />
          ))}
        </ul>
        <UploadBackup />
      </section>
      <BackupScheduleCard />
      {restoring ? (
        <RestoreDialog backup={restoring} onClose={() => setRestoring(undefined)} onStarted={follow} />
      ) : null}
    </div>
  );
}
