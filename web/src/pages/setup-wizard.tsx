// First-run wizard: token → identity → time zone → admin password → services → review, then, with the
// admin signed in, where devices will dial the cell (the endpoint `pic up` found, its warnings, and a
// field to change it). An error the API names is shown on the step that owns the field, and the wizard
// jumps there.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useMemo, useState } from 'react';
import { ApiError, api, call } from '../api/client';
import { ErrorBanner, Field } from '../components/field';
import { PasswordStrength } from '../components/password-strength';
import { navigate } from '../router';
import { useSignedIn } from '../session';
import { EndpointStep } from './setup-endpoint';

const STEPS = [
  'Setup token',
  'Identity',
  'Time zone',
  'Admin password',
  'Services',
  'Review',
  'Where devices connect',
] as const;
/** The last step before the cell is set up, and the one after it (the admin is signed in by then). */
const REVIEW = 5;
const ENDPOINT = 6;
const FIELD_STEP: Record<string, number> = {
  token: 0,
  cell_name: 1,
  domain_mode: 1,
  domain: 1,
  timezone: 2,
  admin_password: 3,
  services: 4,
};
const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

const MODES: Record<string, { title: string; text: string }> = {
  local: {
    title: 'Local (.cell)',
    text: 'Names like calendar.<name>.cell, valid inside your network; HTTPS from the cell’s own CA.',
  },
  pic_ngo: {
    title: 'pic.ngo',
    text: 'A public name <name>.pic.ngo kept up to date by dynamic DNS; certificates from Let’s Encrypt.',
  },
  custom: { title: 'Your own domain', text: 'A domain you own; certificates from Let’s Encrypt.' },
};

const SERVICE_TEXT: Record<string, string> = {
  email: 'Email (Postfix + Dovecot)',
  calendar: 'Calendar and contacts (Radicale)',
  files: 'File storage (WebDAV)',
  webmail: 'Webmail (Roundcube; needs email)',
  'wireguard-ext': 'Exit through another WireGuard server',
  'openvpn-client': 'Exit through an OpenVPN server',
  tor: 'Exit through Tor',
  sshuttle: 'Exit through an SSH server',
  proxy: 'Exit through an HTTP/SOCKS5 proxy',
};

function browserZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

export function SetupWizard() {
  const qc = useQueryClient();
  const signedIn = useSignedIn();
  const options = useQuery({
    queryKey: ['setup-options'],
    queryFn: () => call(api.GET('/api/setup/options')),
  });
  const [step, setStep] = useState(0);
  const [token, setToken] = useState('');
  const [cellName, setCellName] = useState('');
  const [mode, setMode] = useState<'local' | 'pic_ngo' | 'custom'>('local');
  const [domain, setDomain] = useState('');
  const [timezone, setTimezone] = useState(browserZone());
  const [zoneSearch, setZoneSearch] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [services, setServices] = useState<string[]>([]);
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);

  const zones = options.data?.timezones ?? [];
  const filteredZones = useMemo(() => {
    const q = zoneSearch.trim().toLowerCase().replace(/\s+/g, '_');
    return (q ? zones.filter((z) => z.toLowerCase().includes(q)) : zones).slice(0, 200);
  }, [zones, zoneSearch]);

  const local: Record<number, string | undefined> = {
    0: token.trim() ? undefined : 'Enter the setup token.',
    1:
      !LABEL.test(cellName) || cellName.length > 63
        ? 'The cell name must be a lowercase DNS label: a–z, 0–9 and inner hyphens.'
        : mode === 'custom' && !domain.trim()
          ? 'Enter your domain.'
          : undefined,
    2: zones.length && !zones.includes(timezone) ? 'Choose a time zone from the list.' : undefined,
    3:
      password.length < 12
        ? 'The password must be at least 12 characters.'
        : password !== confirm
          ? 'The two passwords differ.'
          : undefined,
  };
  const fieldError = (f: string) => error?.fieldMessage(f);

  async function submit() {
    setBusy(true);
    setError(undefined);
    try {
      const body = {
        token: token.trim(),
        cell_name: cellName,
        domain_mode: mode,
        timezone,
        admin_password: password,
        services: services as never,
        ...(mode === 'custom' ? { domain: domain.trim() } : {}),
      };
      const r = await call(api.POST('/api/setup/complete', { body }));
      signedIn({ username: r.username, role: r.role as 'admin', csrf_token: r.csrf_token });
      // Setup is done; the app leaves the wizard once the owner has seen where devices will dial.
      setStep(ENDPOINT);
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(0, { message: String(err) });
      setError(e);
      const first = e.fields.map((f) => FIELD_STEP[f.field]).find((s) => s !== undefined);
      if (first !== undefined) setStep(first);
      else if (e.code === 'invalid_setup_token') setStep(0);
      else if (e.code === 'setup_completed') {
        qc.setQueryData(['setup-status'], { completed: true });
        navigate('/login', true);
      }
    } finally {
      setBusy(false);
    }
  }

  const next = () => {
    if (local[step]) return;
    setStep((s) => Math.min(s + 1, REVIEW));
  };
  const finish = () => {
    qc.setQueryData(['setup-status'], { completed: true });
    navigate('/', true);
  };

  if (step === ENDPOINT) {
    return (
      <WizardFrame step={step}>
        <EndpointStep onDone={finish} />
      </WizardFrame>
    );
  }

  return (
    <WizardFrame step={step}>
      <form
        className="card"
        onSubmit={(e) => {
          e.preventDefault();
          if (step === REVIEW) void submit();
          else next();
        }}
        noValidate
      >
        <ErrorBanner message={error && !error.fields.length ? error.message : undefined} />
        {step === 0 && (
          <Field
            label="Setup token"
            help={
              <>
                Printed by <code>./pic up</code> (or <code>pic serve</code>) when the cell starts. Lost it?
                Run <code>./pic setup-token</code> on the cell’s host for a new one.
              </>
            }
            error={fieldError('token')}
          >
            {(p) => (
              <input
                {...p}
                name="token"
                className="input font-mono"
                autoComplete="off"
                spellCheck={false}
                value={token}
                onChange={(e) => setToken(e.target.value)}
              />
            )}
          </Field>
        )}
        {step === 1 && (
          <>
            <Field
              label="Cell name"
              help="Lowercase letters, digits and hyphens; it becomes part of your names, e.g. calendar.<name>.cell."
              error={
                fieldError('cell_name') ??
                (cellName && local[1]?.startsWith('The cell') ? local[1] : undefined)
              }
            >
              {(p) => (
                <input
                  {...p}
                  name="cell_name"
                  className="input"
                  value={cellName}
                  onChange={(e) => setCellName(e.target.value)}
                />
              )}
            </Field>
            <fieldset className="mb-4">
              <legend className="label">Domain mode</legend>
              {Object.entries(MODES).map(([value, m]) => (
                <label
                  key={value}
                  className="mb-2 flex gap-3 rounded-md border border-slate-200 p-3 dark:border-slate-700"
                >
                  <input
                    type="radio"
                    name="domain_mode"
                    value={value}
                    checked={mode === value}
                    onChange={() => setMode(value as typeof mode)}
                  />
                  <span>
                    <span className="block text-sm font-medium">{m.title}</span>
                    <span className="block text-xs text-slate-500">{m.text}</span>
                  </span>
                </label>
              ))}
              {fieldError('domain_mode') && <p className="field-error">{fieldError('domain_mode')}</p>}
            </fieldset>
            {mode === 'custom' && (
              <Field label="Domain" help="For example home.example.org" error={fieldError('domain')}>
                {(p) => (
                  <input
                    {...p}
                    name="domain"
                    className="input"
                    value={domain}
                    onChange={(e) => setDomain(e.target.value)}
                  />
                )}
              </Field>
            )}
          </>
        )}
        {step === 2 && (
          <>
            <Field label="Search time zones" help={`Selected: ${timezone}`}>
              {(p) => (
                <input
                  {...p}
                  name="timezone_search"
                  className="input"
                  placeholder="e.g. Berlin"
                  value={zoneSearch}
                  onChange={(e) => setZoneSearch(e.target.value)}
                />
              )}
            </Field>
            <Field label="Time zone" error={fieldError('timezone') ?? local[2]}>
              {(p) => (
                <select
                  {...p}
                  name="timezone"
                  size={8}
                  className="input"
                  value={timezone}
                  onChange={(e) => setTimezone(e.target.value)}
                >
                  {!filteredZones.includes(timezone) && <option value={timezone}>{timezone}</option>}
                  {filteredZones.map((z) => (
                    <option key={z} value={z}>
                      {z}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          </>
        )}
        {step === 3 && (
          <>
            <Field
              label="Admin password"
              help="At least 12 characters. You log in as “admin”."
              error={fieldError('admin_password')}
            >
              {(p) => (
                <>
                  <input
                    {...p}
                    name="admin_password"
                    type="password"
                    autoComplete="new-password"
                    className="input"
                    value={password}
                    onChange={(e) => setPassword(e.target.value)}
                  />
                  <PasswordStrength password={password} />
                </>
              )}
            </Field>
            <Field label="Repeat the password" error={confirm && local[3] ? local[3] : undefined}>
              {(p) => (
                <input
                  {...p}
                  name="confirm_password"
                  type="password"
                  autoComplete="new-password"
                  className="input"
                  value={confirm}
                  onChange={(e) => setConfirm(e.target.value)}
                />
              )}
            </Field>
          </>
        )}
        {step === 4 && (
          <fieldset>
            <legend className="label">Services to install</legend>
            <p className="mb-3 text-xs text-slate-500">
              Optional. They are installed from the signed service store once the cell runs; you can change
              this later.
            </p>
            {(options.data?.services ?? []).map((s) => (
              <label key={s} className="mb-2 flex items-center gap-3 text-sm">
                <input
                  type="checkbox"
                  name={`service-${s}`}
                  checked={services.includes(s)}
                  onChange={(e) =>
                    setServices((cur) => (e.target.checked ? [...cur, s] : cur.filter((x) => x !== s)))
                  }
                />
                {SERVICE_TEXT[s] ?? s}
              </label>
            ))}
            {fieldError('services') && <p className="field-error">{fieldError('services')}</p>}
          </fieldset>
        )}
        {step === 5 && (
          <dl className="grid grid-cols-[max-content_1fr] gap-x-6 gap-y-2 text-sm" data-testid="review">
            <dt className="text-slate-500">Cell name</dt>
            <dd>{cellName}</dd>
            <dt className="text-slate-500">Domain</dt>
            <dd>
              {mode === 'custom' ? domain : mode === 'local' ? `${cellName}.cell` : `${cellName}.pic.ngo`}
            </dd>
            <dt className="text-slate-500">Time zone</dt>
            <dd>{timezone}</dd>
            <dt className="text-slate-500">Admin user</dt>
            <dd>admin</dd>
            <dt className="text-slate-500">Services</dt>
            <dd>{services.length ? services.join(', ') : 'none'}</dd>
          </dl>
        )}
        {step < 5 && local[step] && step !== 1 && step !== 3 && step !== 2 && (
          <p className="field-error">{local[step]}</p>
        )}
        <div className="mt-6 flex justify-between gap-3">
          <button
            type="button"
            className="btn-secondary"
            disabled={step === 0 || busy}
            onClick={() => setStep((s) => Math.max(0, s - 1))}
          >
            Back
          </button>
          <button type="submit" className="btn-primary" disabled={busy || Boolean(local[step] && step < 5)}>
            {step === REVIEW ? (busy ? 'Setting up…' : 'Finish setup') : 'Next'}
          </button>
        </div>
      </form>
    </WizardFrame>
  );
}

function WizardFrame({ step, children }: { step: number; children: ReactNode }) {
  return (
    <div className="mx-auto max-w-xl p-4 md:py-12">
      <h1 className="mb-1 text-2xl font-bold">Set up your cell</h1>
      <p className="mb-6 text-sm text-slate-500">
        Step {step + 1} of {STEPS.length}: {STEPS[step]}
      </p>
      <ol className="mb-6 flex gap-1" aria-hidden="true">
        {STEPS.map((s, i) => (
          <li
            key={s}
            className={`h-1.5 flex-1 rounded ${i <= step ? 'bg-indigo-600' : 'bg-slate-200 dark:bg-slate-700'}`}
          />
        ))}
      </ol>
      {children}
    </div>
  );
}
