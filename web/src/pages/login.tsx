import { useState } from 'react';
import { ApiError, api, call } from '../api/client';
import { ErrorBanner, Field } from '../components/field';
import { navigate } from '../router';
import { useSignedIn } from '../session';
import { RESTORE_FLAG } from './backup-restore-dialog';

export function LoginPage() {
  const signedIn = useSignedIn();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  // Second step: the password was right and two-factor is on (the API answered totp_required).
  const [needCode, setNeedCode] = useState(false);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  // Set by Settings → Backups when a restore started: it ended every session, this one included.
  const [restored] = useState(() => sessionStorage.getItem(RESTORE_FLAG));

  async function submit() {
    setBusy(true);
    setError(undefined);
    try {
      const body = {
        username: username.trim(),
        password,
        ...(needCode ? { code: code.replace(/\s/g, '') } : {}),
      };
      const me = await call(api.POST('/api/auth/login', { body }));
      sessionStorage.removeItem(RESTORE_FLAG);
      signedIn(me);
      navigate(me.role === 'admin' ? '/' : '/account', true);
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) {
        const minutes = Math.ceil((err.retryAfter ?? 60) / 60);
        setError(
          `Too many failed attempts. Try again in about ${minutes} minute${minutes === 1 ? '' : 's'}.`,
        );
      } else if (err instanceof ApiError && err.code === 'totp_required') {
        setNeedCode(true);
      } else if (err instanceof ApiError && err.status === 401 && needCode) {
        setError('Wrong or already used code. Wait for the next one, or use a recovery code.');
        setCode('');
      } else if (err instanceof ApiError && err.status === 401) {
        setError('Wrong username or password.');
      } else {
        setError(err instanceof Error ? err.message : String(err));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="mx-auto max-w-sm p-4 pt-16">
      <h1 className="mb-6 text-center text-2xl font-bold">Log in to your cell</h1>
      <form
        className="card"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <ErrorBanner message={error} />
        {restored ? (
          <p role="status" className="mb-4 text-sm text-slate-600 dark:text-slate-300">
            The cell was restored from the backup <span className="font-mono">{restored}</span>. Log in as a
            user from that backup.
          </p>
        ) : null}
        {needCode ? (
          <>
            <p className="mb-4 text-sm text-slate-600 dark:text-slate-300">
              Two-factor login is on for <strong>{username.trim()}</strong>. Enter the 6-digit code from your
              authenticator app, or one of your recovery codes.
            </p>
            <Field label="Code">
              {(p) => (
                <input
                  {...p}
                  name="code"
                  className="input font-mono"
                  autoComplete="one-time-code"
                  inputMode="text"
                  // biome-ignore lint/a11y/noAutofocus: the one field of this step, shown after a click
                  autoFocus
                  value={code}
                  onChange={(e) => setCode(e.target.value)}
                />
              )}
            </Field>
            <button type="submit" className="btn-primary w-full" disabled={busy || !code.trim()}>
              {busy ? 'Checking…' : 'Verify'}
            </button>
            <button
              type="button"
              className="btn-secondary mt-2 w-full"
              onClick={() => {
                setNeedCode(false);
                setCode('');
                setPassword('');
                setError(undefined);
              }}
            >
              Back
            </button>
          </>
        ) : (
          <>
            <Field label="Username">
              {(p) => (
                <input
                  {...p}
                  name="username"
                  className="input"
                  autoComplete="username"
                  value={username}
                  onChange={(e) => setUsername(e.target.value)}
                />
              )}
            </Field>
            <Field label="Password">
              {(p) => (
                <input
                  {...p}
                  name="password"
                  type="password"
                  className="input"
                  autoComplete="current-password"
                  value={password}
                  onChange={(e) => setPassword(e.target.value)}
                />
              )}
            </Field>
            <button type="submit" className="btn-primary w-full" disabled={busy || !username || !password}>
              {busy ? 'Logging in…' : 'Log in'}
            </button>
          </>
        )}
        <p className="mt-4 text-xs text-slate-500">
          Forgot the admin password? Run <code>./pic admin reset-password</code> on the cell’s host (it also
          turns two-factor login off).
        </p>
      </form>
    </div>
  );
}
