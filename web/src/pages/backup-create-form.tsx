// Settings → Backups: start a backup, encrypted with a passphrase (age, scrypt) unless the owner turns
// that off. The cell does not keep the passphrase, so the form says plainly that losing it loses the
// backup, and offers a strong random one to write down.
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { type ApiError, api, call } from '../api/client';
import { ErrorBanner, Field } from '../components/field';
import { PasswordStrength } from '../components/password-strength';
import { asError } from './backup-job';

const MIN = 12;
// 32 symbols without look-alikes (no l, o, 0, 1): each one is 5 bits, 30 of them 150 bits.
const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

/** Six groups of five random symbols, e.g. "k3vq8-…": easy to copy by hand, far beyond guessing. */
export function suggestPassphrase(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(30));
  const symbols = Array.from(bytes, (b) => ALPHABET[b % 32]).join('');
  return symbols.match(/.{5}/g)!.join('-');
}

export function CreateBackupForm({ busy, onStarted }: { busy: boolean; onStarted: (id: string) => void }) {
  const [encrypt, setEncrypt] = useState(true);
  const [passphrase, setPassphrase] = useState('');
  const [confirm, setConfirm] = useState('');
  const [show, setShow] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [local, setLocal] = useState<{ passphrase?: string; confirm?: string }>({});

  const create = useMutation({
    mutationFn: () => call(api.POST('/api/config/backup', { body: encrypt ? { passphrase } : {} })),
    onSuccess: (r) => {
      setError(undefined);
      setPassphrase('');
      setConfirm('');
      setShow(false);
      onStarted(r.backup_id);
    },
    onError: (e) => setError(asError(e)),
  });

  function submit() {
    const problems: typeof local = {};
    if (encrypt && passphrase.length < MIN) problems.passphrase = `Use at least ${MIN} characters.`;
    if (encrypt && confirm !== passphrase) problems.confirm = 'The two passphrases differ.';
    setLocal(problems);
    if (!problems.passphrase && !problems.confirm) create.mutate();
  }

  return (
    <form
      className="card"
      aria-labelledby="create-backup-heading"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <h2 id="create-backup-heading" className="mb-1 font-semibold">
        Create a backup
      </h2>
      <p className="mb-3 text-sm text-slate-500">
        One archive of the whole cell: peers and their keys, the certificate authority, DNS records, users,
        settings and the services’ data. It is kept on this machine until you download or delete it.
      </p>
      <ErrorBanner message={error && !error.fieldMessage('passphrase') ? error.message : undefined} />
      <label className="mb-3 flex items-center gap-2 text-sm">
        <input
          type="checkbox"
          name="encrypt"
          checked={encrypt}
          onChange={(e) => setEncrypt(e.target.checked)}
        />
        Encrypt with a passphrase (recommended)
      </label>
      {encrypt ? (
        <>
          <p
            role="note"
            className="mb-3 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200"
          >
            The cell does not keep the passphrase and nobody can recover it: a lost passphrase is a lost
            backup. Write it down and keep it somewhere other than the cell.
          </p>
          <div className="grid gap-x-4 md:grid-cols-2">
            <Field
              label="Passphrase"
              help={`At least ${MIN} characters; a long one of random words or symbols is best.`}
              error={local.passphrase ?? error?.fieldMessage('passphrase')}
            >
              {(p) => (
                <>
                  <input
                    {...p}
                    name="passphrase"
                    type={show ? 'text' : 'password'}
                    autoComplete="new-password"
                    className="input font-mono"
                    value={passphrase}
                    onChange={(e) => setPassphrase(e.target.value)}
                  />
                  <PasswordStrength password={passphrase} />
                </>
              )}
            </Field>
            <Field label="Confirm passphrase" error={local.confirm}>
              {(p) => (
                <input
                  {...p}
                  name="confirm_passphrase"
                  type={show ? 'text' : 'password'}
                  autoComplete="new-password"
                  className="input font-mono"
                  value={confirm}
                  onChange={(e) => setConfirm(e.target.value)}
                />
              )}
            </Field>
          </div>
          <div className="mb-4 flex flex-wrap gap-2">
            <button
              type="button"
              className="btn-secondary"
              onClick={() => {
                const p = suggestPassphrase();
                setPassphrase(p);
                setConfirm(p);
                setShow(true);
              }}
            >
              Suggest a strong passphrase
            </button>
            <label className="flex items-center gap-2 text-sm">
              <input type="checkbox" checked={show} onChange={(e) => setShow(e.target.checked)} />
              Show the passphrase
            </label>
          </div>
        </>
      ) : (
        <p
          role="note"
          className="mb-3 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200"
        >
          Without a passphrase the archive holds every private key and password hash in the clear: anyone who
          gets a copy can pose as the cell. Keep it as safe as the cell itself.
        </p>
      )}
      <button type="submit" className="btn-primary" disabled={busy || create.isPending}>
        {create.isPending ? 'Starting…' : 'Create backup'}
      </button>
      {busy ? <span className="ml-3 text-sm text-slate-500">A backup or restore is running.</span> : null}
    </form>
  );
}
