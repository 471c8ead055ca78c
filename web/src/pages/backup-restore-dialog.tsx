// Settings → Backups: restoring replaces the whole cell, so it asks first, naming what goes, and takes
// the passphrase of an encrypted archive. A missing or refused passphrase is shown on its field.
import { useMutation } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { type ApiError, api, call } from '../api/client';
import { ErrorBanner, Field } from '../components/field';
import { asError, type Backup } from './backup-job';

/** Set while a restore runs: the login page says why the session ended (login.tsx). */
export const RESTORE_FLAG = 'pic:restored';

const REPLACED = [
  'every peer and its configuration',
  'the WireGuard keys',
  'the certificate authority and every certificate',
  'DNS records',
  'users and their passwords',
  'DDNS settings',
  'the services’ data',
];

export function RestoreDialog({
  backup,
  onClose,
  onStarted,
}: {
  backup: Backup;
  onClose: () => void;
  onStarted: (id: string) => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [passphrase, setPassphrase] = useState('');
  const [error, setError] = useState<ApiError | undefined>();
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);

  const restore = useMutation({
    mutationFn: () =>
      call(
        api.POST('/api/config/restore/{id}', {
          params: { path: { id: backup.backup_id } },
          body: backup.encrypted ? { passphrase } : {},
        }),
      ),
    onMutate: () => sessionStorage.setItem(RESTORE_FLAG, backup.backup_id),
    onSuccess: (r) => {
      onStarted(r.backup_id);
      onClose();
    },
    onError: (e) => {
      sessionStorage.removeItem(RESTORE_FLAG);
      setError(asError(e));
    },
  });
  const passphraseError = error?.fieldMessage('passphrase');

  return (
    <dialog
      ref={ref}
      aria-labelledby="restore-heading"
      onCancel={onClose}
      className="m-auto w-full max-w-lg rounded-lg border border-slate-200 bg-white p-5 text-slate-900 shadow-xl backdrop:bg-black/50 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          restore.mutate();
        }}
      >
        <h2 id="restore-heading" className="mb-2 text-lg font-semibold">
          Restore <span className="font-mono">{backup.backup_id}</span>?
        </h2>
        <p className="mb-2 text-sm">
          The cell becomes what it was on {new Date(backup.created_at).toLocaleString()}. This replaces:
        </p>
        <ul className="mb-3 list-disc pl-6 text-sm">
          {REPLACED.map((r) => (
            <li key={r}>{r}</li>
          ))}
        </ul>
        <p
          role="note"
          className="mb-4 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200"
        >
          Anything changed since the backup is lost. Every session ends: you will be logged out, and log in
          again as a user from the backup.
        </p>
        <ErrorBanner message={error && !passphraseError ? error.message : undefined} />
        {backup.encrypted ? (
          <Field
            label="Backup passphrase"
            help="The passphrase given when this backup was made."
            error={passphraseError}
          >
            {(p) => (
              <input
                {...p}
                name="restore_passphrase"
                type="password"
                autoComplete="off"
                className="input font-mono"
                value={passphrase}
                onChange={(e) => setPassphrase(e.target.value)}
                required
              />
            )}
          </Field>
        ) : null}
        <div className="flex flex-wrap justify-end gap-2">
          <button type="button" className="btn-secondary" onClick={onClose}>
            Cancel
          </button>
          <button
            type="submit"
            className="btn bg-red-600 text-white hover:bg-red-500"
            disabled={restore.isPending || (backup.encrypted && !passphrase)}
          >
            {restore.isPending ? 'Starting…' : 'Restore and log out'}
          </button>
        </div>
      </form>
    </dialog>
  );
}
