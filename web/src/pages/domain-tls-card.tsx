// Settings → Domain and TLS: the domain mode (local / pic.ngo / own domain), the ACME settings
// (advanced), applying a change with the certificate's progress, and the served certificate's
// status with "Renew now". A mode or domain change waits in the pending step; Apply obtains the new
// certificate first and switches only when it succeeded (ADR 0018).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { ApiError, api, call } from '../api/client';
import { ErrorBanner, Field } from '../components/field';
import { navigate } from '../router';

type Mode = 'local' | 'pic_ngo' | 'custom';
const MODES: { value: Mode; label: string; help: string }[] = [
  { value: 'local', label: 'Local (<name>.cell)', help: 'The cell’s own CA signs; devices trust it once.' },
  {
    value: 'pic_ngo',
    label: 'pic.ngo (<name>.pic.ngo)',
    help: 'Let’s Encrypt, proved through pic.ngo’s DNS.',
  },
  { value: 'custom', label: 'My own domain', help: 'Let’s Encrypt for a domain you own.' },
];

const asError = (e: unknown) => (e instanceof ApiError ? e : new ApiError(0, { message: String(e) }));
const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '—');

export function DomainTlsCard() {
  const qc = useQueryClient();
  const config = useQuery({ queryKey: ['config'], queryFn: () => call(api.GET('/api/config')) });
  const settings = useQuery({
    queryKey: ['tls-settings'],
    queryFn: () => call(api.GET('/api/tls/settings')),
  });
  const [busy, setBusy] = useState(false);
  const status = useQuery({
    queryKey: ['tls-status'],
    queryFn: () => call(api.GET('/api/tls/status')),
    // Live while an order runs (an apply or a renewal): its step shows as it goes.
    refetchInterval: (q) => (busy || q.state.data?.in_progress ? 1_500 : 30_000),
  });
  const [form, setForm] = useState({
    mode: 'local' as Mode,
    domain: '',
    email: '',
    directory_url: '',
    directory_ca: '',
    challenge: 'auto' as 'auto' | 'dns-01' | 'http-01',
    eab_kid: '',
    eab_hmac: '',
  });
  const [advanced, setAdvanced] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [done, setDone] = useState<string | undefined>();

  // Filled from the server once: a refused apply refetches the settings (its PUT of the ACME
  // settings may have gone through), and filling again then would wipe the mode and domain typed,
  // with the error shown under them.
  const filled = useRef(false);
  useEffect(() => {
    const id = config.data?.identity;
    const s = settings.data;
    if (id && s && !filled.current) {
      filled.current = true;
      setForm((f) => ({
        ...f,
        mode: id.domain_mode,
        domain: id.domain_mode === 'custom' ? id.domain : '',
        email: s.email ?? '',
        directory_url: s.directory_url,
        directory_ca: s.directory_ca ?? '',
        challenge: s.challenge,
        eab_kid: s.eab_kid ?? '',
      }));
    }
  }, [config.data, settings.data]);

  const apply = useMutation({
    mutationFn: async () => {
      setBusy(true);
      if (form.mode !== 'local')
        await call(
          api.PUT('/api/tls/settings', {
            body: {
              email: form.email === '' ? null : form.email,
              directory_url: form.directory_url,
              directory_ca: form.directory_ca.trim() === '' ? null : `${form.directory_ca.trim()}\n`,
              challenge: form.challenge,
              eab_kid: form.eab_kid === '' ? null : form.eab_kid,
              ...(form.eab_hmac ? { eab_hmac: form.eab_hmac } : {}),
            },
          }),
        );
      const identity =
        form.mode === 'custom' ? { domain_mode: form.mode, domain: form.domain } : { domain_mode: form.mode };
      await call(api.PUT('/api/config', { body: { identity } }));
      return call(api.POST('/api/config/apply'));
    },
    onSuccess: (r) => {
      setError(undefined);
      setForm((f) => ({ ...f, eab_hmac: '' }));
      setDone(
        r.applied.length ? `Applied: ${r.applied.map((c) => c.field).join(', ')}` : 'Nothing to apply.',
      );
    },
    onError: (e) => {
      setDone(undefined);
      setError(asError(e));
    },
    onSettled: () => {
      setBusy(false);
      for (const key of ['config', 'pending', 'tls-status', 'tls-settings'])
        void qc.invalidateQueries({ queryKey: [key] });
    },
  });
  const renew = useMutation({
    mutationFn: () => call(api.POST('/api/tls/renew')),
    onSuccess: (s) => {
      qc.setQueryData(['tls-status'], s);
      setError(undefined);
      setDone('Renewed.');
    },
    onError: (e) => {
      setDone(undefined);
      setError(asError(e));
      void qc.invalidateQueries({ queryKey: ['tls-status'] });
    },
  });

  const fe = (field: string) =>
    error?.fields.find((f) => f.field === field || f.field === `identity.${field}`)?.message;
  const st = status.data;
  const s = settings.data;
  const acme = form.mode !== 'local';
  const text = (
    key: 'domain' | 'email' | 'directory_url' | 'eab_kid' | 'eab_hmac',
    label: string,
    help: string,
    password = false,
  ) => (
    <Field label={label} help={help} error={fe(key)}>
      {(p) => (
        <input
          {...p}
          name={key}
          className="input"
          type={password ? 'password' : 'text'}
          autoComplete={password ? 'new-password' : 'off'}
          value={form[key]}
          onChange={(e) => setForm({ ...form, [key]: e.target.value })}
        />
      )}
    </Field>
  );

  return (
    <section className="card" aria-labelledby="tls-heading" data-testid="domain-tls">
      <h2 id="tls-heading" className="mb-3 font-semibold">
        Domain and TLS
      </h2>
      {st && (
        <dl
          className="mb-4 grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm"
          data-testid="tls-status"
        >
          <dt className="text-slate-500">Serving</dt>
          <dd>
            {st.domain} ({MODES.find((m) => m.value === st.mode)?.label})
            {st.fallback && ' — no certificate yet: a self-signed one serves meanwhile (browsers warn)'}
          </dd>
          <dt className="text-slate-500">Issuer</dt>
          <dd>{st.issuer ?? '—'}</dd>
          <dt className="text-slate-500">Expires</dt>
          <dd>{when(st.not_after)}</dd>
          {st.mode !== 'local' && (
            <>
              <dt className="text-slate-500">Last renewal</dt>
              <dd>{when(st.last_renewal)}</dd>
              <dt className="text-slate-500">Next attempt</dt>
              <dd>{when(st.next_attempt)}</dd>
            </>
          )}
          {st.in_progress && (
            <>
              <dt className="text-slate-500">In progress</dt>
              <dd role="status">{st.progress ?? 'working'}…</dd>
            </>
          )}
          {st.last_error && (
            <>
              <dt className="text-slate-500">Last error</dt>
              <dd className="text-red-700 dark:text-red-400" data-testid="tls-last-error">
                {st.last_error}
              </dd>
            </>
          )}
        </dl>
      )}
      <ErrorBanner message={error && !error.fields.length ? error.message : undefined} />
      {done && (
        <p role="status" className="mb-3 text-sm text-green-700 dark:text-green-400">
          {done}
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          apply.mutate();
        }}
      >
        {/* Disabled until the settings are here: their arrival would replace what was typed before. */}
        <fieldset disabled={!config.data || !s} className="min-w-0">
          <Field
            label="Domain mode"
            help={MODES.find((m) => m.value === form.mode)?.help}
            error={fe('domain_mode')}
          >
            {(p) => (
              <select
                {...p}
                name="domain_mode"
                className="input"
                value={form.mode}
                onChange={(e) => setForm({ ...form, mode: e.target.value as Mode })}
              >
                {MODES.map((m) => (
                  <option key={m.value} value={m.value}>
                    {m.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {form.mode === 'custom' && text('domain', 'Domain', 'A domain you control, e.g. home.example.org')}
          {acme && s && (
            <p className="mb-4 text-sm text-slate-600 dark:text-slate-400" data-testid="tls-dns-hint">
              {s.dns_provider_supports_txt
                ? `Proved by DNS-01 through your ${s.dns_provider} DNS: the certificate also covers every service name (*.domain).`
                : 'No DNS provider that can publish TXT records: proved by HTTP-01 (port 80 must reach this cell), for the domain itself only. '}
              {!s.dns_provider_supports_txt && (
                <a
                  href="/network"
                  className="underline"
                  onClick={(e) => {
                    e.preventDefault();
                    navigate('/network');
                  }}
                >
                  Set up Dynamic DNS
                </a>
              )}
            </p>
          )}
          {acme && (
            <>
              {text('email', 'Contact email', 'The CA writes here about expiring certificates (optional).')}
              <button type="button" className="btn-secondary mb-3" onClick={() => setAdvanced(!advanced)}>
                {advanced ? 'Hide advanced' : 'Advanced'}
              </button>
              {advanced && (
                <div className="grid gap-x-4 md:grid-cols-2">
                  {text('directory_url', 'ACME directory', 'Default: Let’s Encrypt. https only.')}
                  <Field label="Challenge" error={fe('challenge')}>
                    {(p) => (
                      <select
                        {...p}
                        name="challenge"
                        className="input"
                        value={form.challenge}
                        onChange={(e) =>
                          setForm({ ...form, challenge: e.target.value as typeof form.challenge })
                        }
                      >
                        <option value="auto">Automatic</option>
                        <option value="dns-01">DNS-01</option>
                        <option value="http-01">HTTP-01</option>
                      </select>
                    )}
                  </Field>
                  <Field
                    label="Private CA's roots (PEM)"
                    help="Only for a private ACME CA (step-ca, a company CA): the root its HTTPS chains to, and the root it issues under if that is another one (services such as webmail trust it)."
                    error={fe('directory_ca')}
                  >
                    {(p) => (
                      <textarea
                        {...p}
                        name="directory_ca"
                        className="input font-mono text-xs"
                        rows={3}
                        spellCheck={false}
                        placeholder="-----BEGIN CERTIFICATE-----"
                        value={form.directory_ca}
                        onChange={(e) => setForm({ ...form, directory_ca: e.target.value })}
                      />
                    )}
                  </Field>
                  {text('eab_kid', 'EAB key id', 'Only for CAs that require external account binding.')}
                  {text(
                    'eab_hmac',
                    'EAB HMAC key',
                    s?.eab_hmac_set ? 'Stored. Leave empty to keep it.' : 'Shown once by the CA.',
                    true,
                  )}
                </div>
              )}
            </>
          )}
        </fieldset>
        <div className="flex flex-wrap gap-2">
          <button type="submit" className="btn-primary" disabled={apply.isPending || !config.data || !s}>
            {apply.isPending ? 'Applying…' : 'Save and apply'}
          </button>
          <button
            type="button"
            className="btn-secondary"
            disabled={renew.isPending || st?.mode === 'local' || st?.in_progress}
            onClick={() => renew.mutate()}
          >
            {renew.isPending ? 'Renewing…' : 'Renew now'}
          </button>
        </div>
        <p className="mt-2 text-xs text-slate-500">
          Apply also applies other pending changes. A new domain switches only once its certificate is issued;
          until then the current one keeps serving. Once it switches, every installed service is made again
          for the new domain (its data stays; email then answers for the new domain only).
        </p>
      </form>
    </section>
  );
}
