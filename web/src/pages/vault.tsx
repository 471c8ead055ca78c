// Vault: the cell's certificate authority. The root to install, issuing a certificate (its private key
// shown once: the cell does not keep it), the list of issued certificates, revoking one, and the CRL.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError, api, call } from '../api/client';
import type { paths } from '../api/schema';
import { ErrorBanner, Field } from '../components/field';
import { TrustCellCard } from './trust-cell-card';

type Issued = paths['/api/vault/certs']['post']['responses']['201']['content']['application/json'];
type Cert = paths['/api/vault/certs']['get']['responses']['200']['content']['application/json'][number];
type Reason = NonNullable<
  NonNullable<
    paths['/api/vault/certs/{id}/revoke']['post']['requestBody']
  >['content']['application/json']['reason']
>;

const REASONS: Array<{ value: Reason; label: string }> = [
  { value: 'unspecified', label: 'No reason given' },
  { value: 'keyCompromise', label: 'The private key leaked' },
  { value: 'superseded', label: 'Replaced by a new certificate' },
  { value: 'cessationOfOperation', label: 'No longer used' },
  { value: 'affiliationChanged', label: 'The name changed owner' },
];

const asError = (e: unknown) => (e instanceof ApiError ? e : new ApiError(0, { message: String(e) }));

function download(name: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/x-pem-file' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}

function IssueForm({ onIssued }: { onIssued: (c: Issued, name: string) => void }) {
  const qc = useQueryClient();
  const [cn, setCn] = useState('');
  const [sans, setSans] = useState('');
  const [days, setDays] = useState('365');
  const [clientAuth, setClientAuth] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const issue = useMutation({
    mutationFn: () =>
      call(
        api.POST('/api/vault/certs', {
          body: {
            common_name: cn.trim(),
            sans: sans
              .split(/[\s,]+/)
              .map((s) => s.trim())
              .filter(Boolean),
            days: Number(days),
            client_auth: clientAuth,
          },
        }),
      ),
    onSuccess: (r) => {
      setError(undefined);
      onIssued(r, cn.trim());
      setCn('');
      setSans('');
      void qc.invalidateQueries({ queryKey: ['vault-certs'] });
    },
    onError: (e) => setError(asError(e)),
  });
  const sansError = error?.fields.find((f) => f.field === 'sans' || f.field.startsWith('sans.'));
  return (
    <form
      className="card"
      onSubmit={(e) => {
        e.preventDefault();
        issue.mutate();
      }}
    >
      <h2 className="mb-3 font-semibold">Issue a certificate</h2>
      <ErrorBanner message={error && !error.fields.length ? error.message : undefined} />
      <div className="grid gap-x-4 md:grid-cols-2">
        <Field
          label="Common name"
          help="A lowercase name under .cell (nas.home.cell, *.home.cell) or a private IP: the cell's CA vouches for nothing else."
          error={error?.fieldMessage('common_name')}
        >
          {(p) => (
            <input
              {...p}
              name="common_name"
              className="input font-mono"
              value={cn}
              onChange={(e) => setCn(e.target.value)}
              required
            />
          )}
        </Field>
        <Field
          label="Valid for (days)"
          help="1 to 825 days (Apple devices refuse longer)."
          error={error?.fieldMessage('days')}
        >
          {(p) => (
            <input
              {...p}
              name="days"
              type="number"
              min={1}
              max={825}
              className="input"
              value={days}
              onChange={(e) => setDays(e.target.value)}
            />
          )}
        </Field>
        <Field
          label="Other names (optional)"
          help="More .cell names or private IPs (10/8, 172.16/12, 192.168/16, 100.64/10, 127/8, fc00::/7, ::1), separated by spaces, commas or new lines."
          error={sansError ? `${sansError.field}: ${sansError.message}` : undefined}
        >
          {(p) => (
            <textarea
              {...p}
              name="sans"
              rows={2}
              className="input font-mono"
              value={sans}
              onChange={(e) => setSans(e.target.value)}
            />
          )}
        </Field>
        <label className="mb-4 flex items-center gap-2 text-sm">
          <input type="checkbox" checked={clientAuth} onChange={(e) => setClientAuth(e.target.checked)} />
          Also a TLS client certificate
        </label>
      </div>
      <button type="submit" className="btn-primary" disabled={issue.isPending}>
        Issue
      </button>
    </form>
  );
}

function IssuedOnce({ issued, name, onClose }: { issued: Issued; name: string; onClose: () => void }) {
  const base = name.replace(/^\*\./, 'wildcard.');
  const parts = [
    { label: 'Private key', file: `${base}.key`, text: issued.private_key },
    { label: 'Certificate', file: `${base}.crt`, text: issued.certificate },
    { label: 'Chain (intermediate, then root)', file: `${base}.chain.crt`, text: issued.chain },
  ];
  return (
    <section className="card" aria-labelledby="issued-heading" data-testid="issued-once">
      <h2 id="issued-heading" className="mb-2 font-semibold">
        Certificate issued (serial <span className="font-mono">{issued.serial}</span>)
      </h2>
      <p
        role="alert"
        className="mb-3 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200"
      >
        Save the private key now: it is shown only this once and the cell does not keep it. Anyone with it can
        pose as {name}; if it leaks, revoke the certificate.
      </p>
      {parts.map((p) => (
        <div key={p.file} className="mb-3">
          <div className="mb-1 flex items-center justify-between gap-2">
            <span className="label">{p.label}</span>
            <button type="button" className="btn-secondary" onClick={() => download(p.file, p.text)}>
              Download {p.file}
            </button>
          </div>
          <textarea
            aria-label={p.label}
            readOnly
            rows={4}
            className="input font-mono text-xs"
            value={p.text}
            onFocus={(e) => e.target.select()}
          />
        </div>
      ))}
      <button type="button" className="btn-secondary" onClick={onClose}>
        I have saved it
      </button>
    </section>
  );
}

function RevokeButton({ cert }: { cert: Cert }) {
  const qc = useQueryClient();
  const [reason, setReason] = useState<Reason>('unspecified');
  const [open, setOpen] = useState(false);
  const revoke = useMutation({
    mutationFn: () =>
      call(
        api.POST('/api/vault/certs/{id}/revoke', {
          params: { path: { id: String(cert.id) } },
          body: { reason },
        }),
      ),
    onSuccess: () => {
      setOpen(false);
      void qc.invalidateQueries({ queryKey: ['vault-certs'] });
    },
  });
  if (!open)
    return (
      <button type="button" className="btn-secondary" onClick={() => setOpen(true)}>
        Revoke
      </button>
    );
  return (
    <div className="flex flex-wrap items-center gap-2">
      <label className="sr-only" htmlFor={`reason-${cert.id}`}>
        Reason
      </label>
      <select
        id={`reason-${cert.id}`}
        className="input w-auto"
        value={reason}
        onChange={(e) => setReason(e.target.value as Reason)}
      >
        {REASONS.map((r) => (
          <option key={r.value} value={r.value}>
            {r.label}
          </option>
        ))}
      </select>
      <button
        type="button"
        className="btn-primary"
        disabled={revoke.isPending}
        onClick={() => revoke.mutate()}
      >
        Revoke {cert.common_name}
      </button>
      <button type="button" className="btn-secondary" onClick={() => setOpen(false)}>
        Cancel
      </button>
      {revoke.error ? <span className="field-error">{revoke.error.message}</span> : null}
    </div>
  );
}

function CertList() {
  const certs = useQuery({ queryKey: ['vault-certs'], queryFn: () => call(api.GET('/api/vault/certs')) });
  return (
    <section className="card" aria-labelledby="certs-heading">
      <h2 id="certs-heading" className="mb-3 font-semibold">
        Certificates
      </h2>
      <ErrorBanner message={certs.error?.message} />
      {certs.data && certs.data.length === 0 ? (
        <p className="text-sm text-slate-500">None issued yet.</p>
      ) : null}
      <ul className="divide-y divide-slate-200 dark:divide-slate-800">
        {certs.data?.map((c) => (
          <li
            key={c.id}
            className="flex flex-wrap items-center justify-between gap-3 py-3"
            data-testid="cert-row"
          >
            <div className="min-w-0">
              <div className="break-all font-mono text-sm">{c.common_name}</div>
              <div className="break-all text-xs text-slate-500">
                {c.sans.join(', ')} · {c.purpose === 'server' ? 'the cell’s HTTPS · ' : ''}
                {c.status === 'revoked'
                  ? `revoked ${new Date(c.revoked_at ?? '').toLocaleDateString()} (${c.reason})`
                  : `${c.status === 'expired' ? 'expired' : 'valid until'} ${new Date(c.not_after).toLocaleDateString()}`}
              </div>
            </div>
            {c.status === 'valid' ? <RevokeButton cert={c} /> : null}
          </li>
        ))}
      </ul>
      <p className="mt-3 text-xs text-slate-500">
        Revoked certificates are listed in the{' '}
        <a className="underline" href="/api/vault/crl" download>
          certificate revocation list
        </a>{' '}
        (DER, signed by the intermediate CA).
      </p>
    </section>
  );
}

export function VaultPage() {
  const [issued, setIssued] = useState<{ cert: Issued; name: string } | undefined>();
  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-bold">Vault</h1>
      <TrustCellCard />
      {issued ? (
        <IssuedOnce issued={issued.cert} name={issued.name} onClose={() => setIssued(undefined)} />
      ) : null}
      <IssueForm onIssued={(cert, name) => setIssued({ cert, name })} />
      <CertList />
    </div>
  );
}
