import { useState } from 'react';
import { ApiError, api, call } from '../api/client';
import { ErrorBanner, Field } from '../components/field';
import { PasswordStrength } from '../components/password-strength';
import { useSignedIn } from '../session';

/** Changing the password ends every other session; the API returns a fresh one for this browser. */
export function ChangePasswordForm() {
  const signedIn = useSignedIn();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [error, setError] = useState<ApiError | undefined>();
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  return (
    <form
      className="card"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(undefined);
        setDone(false);
        try {
          const me = await call(
            api.POST('/api/auth/password', { body: { current_password: current, new_password: next } }),
          );
          signedIn(me);
          setDone(true);
          setCurrent('');
          setNext('');
        } catch (err) {
          setError(err instanceof ApiError ? err : new ApiError(0, { message: String(err) }));
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2 className="mb-3 font-semibold">Change password</h2>
      <ErrorBanner message={error && !error.fields.length ? error.message : undefined} />
      {done && (
        <p role="status" className="mb-3 text-sm text-green-700 dark:text-green-400">
          Password changed. Your other sessions were logged out.
        </p>
      )}
      <Field label="Current password" error={error?.fieldMessage('current_password')}>
        {(p) => (
          <input
            {...p}
            type="password"
            name="current_password"
            autoComplete="current-password"
            className="input"
            value={current}
            onChange={(e) => setCurrent(e.target.value)}
          />
        )}
      </Field>
      <Field label="New password" help="At least 12 characters." error={error?.fieldMessage('new_password')}>
        {(p) => (
          <>
            <input
              {...p}
              type="password"
              name="new_password"
              autoComplete="new-password"
              className="input"
              value={next}
              onChange={(e) => setNext(e.target.value)}
            />
            <PasswordStrength password={next} />
          </>
        )}
      </Field>
      <button type="submit" className="btn-primary" disabled={busy || !current || next.length < 12}>
        Change password
      </button>
    </form>
  );
}
