// Settings → Security (and My account for peers): two-factor login for the logged-in user's own
// account. Start setup → scan the QR code or type the secret → confirm with a code → the recovery codes,
// shown this once, to copy. Turning it off takes the password and a code (or a recovery code).
import { useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { ApiError, api, call } from '../api/client';
import { ErrorBanner, Field } from '../components/field';
import { type Me, useMe } from '../session';

type Step =
  | { kind: 'idle' }
  | { kind: 'confirm'; secret: string; qr: string }
  | { kind: 'codes'; codes: string[] };

const asApiError = (e: unknown) => (e instanceof ApiError ? e : new ApiError(0, { message: String(e) }));

export function SecurityCard() {
  const me = useMe();
  const qc = useQueryClient();
  const [step, setStep] = useState<Step>({ kind: 'idle' });
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const enabled = me.data?.totp_enabled ?? false;

  const setEnabled = (on: boolean) =>
    qc.setQueryData<Me | null>(['me'], (old) => (old ? { ...old, totp_enabled: on } : old));

  async function run(fn: () => Promise<void>) {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  }

  const start = () =>
    run(async () => {
      const r = await call(api.POST('/api/auth/totp/setup'));
      setStep({ kind: 'confirm', secret: r.secret, qr: r.qr });
    });

  return (
    <section className="card" aria-labelledby="security-heading">
      <h2 id="security-heading" className="mb-1 font-semibold">
        Security
      </h2>
      <p className="mb-3 text-sm text-slate-500">
        Two-factor login asks for a code from an authenticator app (any app that speaks TOTP) after your
        password. {enabled && step.kind !== 'codes' ? 'It is on.' : step.kind === 'idle' ? 'It is off.' : ''}
      </p>
      <ErrorBanner message={error && !error.fields.length ? error.message : undefined} />
      {step.kind === 'confirm' ? (
        <Confirm
          secret={step.secret}
          qr={step.qr}
          busy={busy}
          error={error}
          onCancel={() => {
            setStep({ kind: 'idle' });
            setError(undefined);
          }}
          onCode={(password, code) =>
            run(async () => {
              const r = await call(api.POST('/api/auth/totp/enable', { body: { password, code } }));
              setStep({ kind: 'codes', codes: r.recovery_codes });
              setEnabled(true);
            })
          }
        />
      ) : step.kind === 'codes' ? (
        <RecoveryCodes codes={step.codes} onDone={() => setStep({ kind: 'idle' })} />
      ) : enabled ? (
        <TurnOff
          busy={busy}
          error={error}
          onSubmit={(password, code) =>
            run(async () => {
              await call(api.POST('/api/auth/totp/disable', { body: { password, code } }));
              setEnabled(false);
            })
          }
        />
      ) : (
        <button
          type="button"
          className="btn-primary"
          disabled={busy || !me.data}
          onClick={() => void start()}
        >
          Set up two-factor login
        </button>
      )}
    </section>
  );
}

function Confirm(o: {
  secret: string;
  qr: string;
  busy: boolean;
  error: ApiError | undefined;
  onCancel: () => void;
  onCode: (password: string, code: string) => void;
}) {
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        o.onCode(password, code.replace(/\s/g, ''));
      }}
    >
      <p className="mb-2 text-sm">
        1. Scan this QR code with your authenticator app, or type the secret into it.
      </p>
      <div className="mb-3 flex flex-wrap items-center gap-4">
        <img src={o.qr} alt="QR code for your authenticator app" className="h-44 w-44 rounded bg-white" />
        <div>
          <p className="text-xs text-slate-500">Secret (time-based, 6 digits, 30 seconds)</p>
          <code data-testid="totp-secret" className="font-mono text-sm break-all">
            {o.secret.match(/.{1,4}/g)?.join(' ')}
          </code>
        </div>
      </div>
      <p className="mb-2 text-sm">
        2. Enter the code the app shows and your password to turn two-factor login on.
      </p>
      <Field label="Code from the app" error={o.error?.fieldMessage('code')}>
        {(p) => (
          <input
            {...p}
            name="totp-code"
            className="input w-40 font-mono"
            autoComplete="one-time-code"
            inputMode="numeric"
            value={code}
            onChange={(e) => setCode(e.target.value)}
          />
        )}
      </Field>
      <Field label="Your password" error={o.error?.fieldMessage('password')}>
        {(p) => (
          <input
            {...p}
            name="totp-enable-password"
            type="password"
            className="input w-64"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        )}
      </Field>
      <div className="flex gap-2">
        <button type="submit" className="btn-primary" disabled={o.busy || !code.trim() || !password}>
          Turn on
        </button>
        <button type="button" className="btn-secondary" onClick={o.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);
  const text = codes.join('\n');
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // No clipboard API over plain HTTP on the LAN: select the text and copy the old way.
      area.current?.select();
      document.execCommand('copy');
    }
    setCopied(true);
  }
  return (
    <div>
      <p className="mb-2 text-sm font-medium text-green-700 dark:text-green-400">Two-factor login is on.</p>
      <div
        role="alert"
        className="mb-3 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200"
      >
        Save these recovery codes now, somewhere other than your phone: they are not shown again. Each one
        logs you in once in place of a code if you lose the app.
      </div>
      <textarea
        ref={area}
        readOnly
        data-testid="recovery-codes"
        aria-label="Recovery codes"
        className="input mb-3 h-56 font-mono"
        value={text}
        onFocus={(e) => e.target.select()}
      />
      <div className="flex gap-2">
        <button type="button" className="btn-secondary" onClick={() => void copy()}>
          {copied ? 'Copied' : 'Copy codes'}
        </button>
        <button type="button" className="btn-primary" onClick={onDone}>
          I saved them
        </button>
      </div>
    </div>
  );
}

function TurnOff(o: {
  busy: boolean;
  error: ApiError | undefined;
  onSubmit: (password: string, code: string) => void;
}) {
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        o.onSubmit(password, code.replace(/\s/g, ''));
      }}
    >
      <p className="mb-3 text-sm">To turn it off, enter your password and a code (or a recovery code).</p>
      <div className="grid gap-x-4 md:grid-cols-2">
        <Field label="Password" error={o.error?.fieldMessage('password')}>
          {(p) => (
            <input
              {...p}
              type="password"
              name="totp-off-password"
              autoComplete="current-password"
              className="input"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          )}
        </Field>
        <Field label="Code" error={o.error?.fieldMessage('code')}>
          {(p) => (
            <input
              {...p}
              name="totp-off-code"
              autoComplete="one-time-code"
              className="input font-mono"
              value={code}
              onChange={(e) => setCode(e.target.value)}
            />
          )}
        </Field>
      </div>
      <button type="submit" className="btn-secondary" disabled={o.busy || !password || !code.trim()}>
        Turn off two-factor login
      </button>
    </form>
  );
}
