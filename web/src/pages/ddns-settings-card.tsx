// Network Services → Dynamic DNS: the provider, host name and token (write-only: never shown, never
// pre-filled; left empty it is kept), the advanced base URL and IP echo URLs, the last outcome and
// "Update now".
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { ApiError, api, call } from '../api/client';
import type { paths } from '../api/schema';
import { ErrorBanner, Field } from '../components/field';

type Body = paths['/api/ddns']['put']['requestBody']['content']['application/json'];
type Provider = Body['provider'];

const PROVIDERS: Array<{ value: Provider; label: string; token: string }> = [
  { value: 'pic_ngo', label: 'pic.ngo', token: 'Token from pic.ngo' },
  { value: 'cloudflare', label: 'Cloudflare', token: 'API token (Zone → DNS → Edit)' },
  { value: 'duckdns', label: 'Duck DNS', token: 'Token from duckdns.org' },
  { value: 'noip', label: 'No-IP', token: 'username:password (or a DDNS key’s)' },
  { value: 'freedns', label: 'FreeDNS (afraid.org)', token: 'The update token from the Direct URL' },
];

interface Form {
  provider: Provider;
  hostname: string;
  token: string;
  zone_id: string;
  api_url: string;
  echo: string;
}

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '—');

export function DdnsSettingsCard() {
  const qc = useQueryClient();
  const view = useQuery({ queryKey: ['ddns'], queryFn: () => call(api.GET('/api/ddns')) });
  const [form, setForm] = useState<Form>({
    provider: 'pic_ngo',
    hostname: '',
    token: '',
    zone_id: '',
    api_url: '',
    echo: '',
  });
  const [advanced, setAdvanced] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [note, setNote] = useState<string | undefined>();
  const v = view.data;
  useEffect(() => {
    if (!v?.configured) return;
    setForm((f) => ({
      ...f,
      provider: v.provider ?? f.provider,
      hostname: v.hostname ?? '',
      zone_id: v.zone_id ?? '',
      api_url: v.custom_api_url ?? '',
      echo: v.ip_echo_urls.join('\n'),
      token: '', // never pre-filled
    }));
  }, [v]);
  const save = useMutation({
    mutationFn: () => {
      const echo = form.echo
        .split('\n')
        .map((s) => s.trim())
        .filter(Boolean);
      const body: Body = {
        provider: form.provider,
        hostname: form.hostname.trim(),
        ip_echo_urls: echo,
        ...(form.token ? { token: form.token } : {}),
        ...(form.provider === 'cloudflare' ? { zone_id: form.zone_id.trim() } : {}),
        ...(form.api_url.trim() ? { api_url: form.api_url.trim() } : {}),
      };
      return call(api.PUT('/api/ddns', { body }));
    },
    onSuccess: (r) => {
      setError(undefined);
      setForm((f) => ({ ...f, token: '' }));
      qc.setQueryData(['ddns'], r);
      setNote('Saved. Publishing starts over.');
    },
    onError: (e) => {
      setNote(undefined);
      setError(e instanceof ApiError ? e : undefined);
    },
  });
  const update = useMutation({
    mutationFn: () => call(api.POST('/api/ddns/update')),
    onSuccess: (r) => {
      setNote(`${r.outcome}: ${r.message}`);
      void qc.invalidateQueries({ queryKey: ['ddns'] });
    },
    onError: (e) => setNote(e.message),
  });
  const fe = (f: string) => error?.fieldMessage(f);
  const provider = PROVIDERS.find((p) => p.value === form.provider)!;
  const text = (key: keyof Form, label: string, help?: string, extra: Record<string, string> = {}) => (
    <Field label={label} help={help} error={fe(key === 'echo' ? 'ip_echo_urls' : key)}>
      {(p) => (
        <input
          {...p}
          {...extra}
          name={key}
          className="input"
          value={form[key]}
          onChange={(e) => setForm({ ...form, [key]: e.target.value })}
        />
      )}
    </Field>
  );
  return (
    <section className="card" aria-labelledby="ddns-heading" data-testid="ddns-settings">
      <h2 id="ddns-heading" className="mb-3 font-semibold">
        Dynamic DNS
      </h2>
      {v?.configured && (
        <dl className="mb-4 grid gap-1 text-sm md:grid-cols-2" data-testid="ddns-status">
          <div>
            <dt className="inline text-slate-500">Address published: </dt>
            <dd className="inline font-mono">{v.last_ip ?? '—'}</dd>
          </div>
          <div>
            <dt className="inline text-slate-500">Last update: </dt>
            <dd className="inline">{when(v.last_update)}</dd>
          </div>
          <div>
            <dt className="inline text-slate-500">Next attempt: </dt>
            <dd className="inline">{v.stopped ? 'stopped: fix the settings' : when(v.next_attempt)}</dd>
          </div>
          <div>
            <dt className="inline text-slate-500">Token: </dt>
            <dd className="inline">{v.token_set ? 'set' : 'not set'}</dd>
          </div>
          {v.last_error && (
            <div className="md:col-span-2 text-red-700 dark:text-red-400" role="status">
              {v.last_error}
            </div>
          )}
        </dl>
      )}
      <ErrorBanner message={error && error.fields.length === 0 ? error.message : undefined} />
      {note && (
        <p role="status" className="mb-3 text-sm">
          {note}
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <div className="grid gap-x-4 md:grid-cols-2">
          <Field label="Provider" error={fe('provider')}>
            {(p) => (
              <select
                {...p}
                name="provider"
                className="input"
                value={form.provider}
                // Another provider: its own URL and zone, not the previous one's.
                onChange={(e) =>
                  setForm({ ...form, provider: e.target.value as Provider, api_url: '', zone_id: '' })
                }
              >
                {PROVIDERS.map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {text('hostname', 'Host name', 'The name to keep pointed at this cell, e.g. home.example.org')}
          {text(
            'token',
            'Token',
            v?.token_set ? `${provider.token}. Leave empty to keep the stored one.` : provider.token,
            { type: 'password', autoComplete: 'new-password' },
          )}
          {form.provider === 'cloudflare' && text('zone_id', 'Zone ID', 'From the zone’s Overview page')}
        </div>
        <Field
          label="IP echo URLs"
          help="One per line, asked in order for this cell's public address. None: nothing is published."
          error={fe('ip_echo_urls') ?? error?.fields.find((f) => f.field.startsWith('ip_echo_urls'))?.message}
        >
          {(p) => (
            <textarea
              {...p}
              name="ip_echo_urls"
              rows={2}
              className="input font-mono"
              value={form.echo}
              onChange={(e) => setForm({ ...form, echo: e.target.value })}
            />
          )}
        </Field>
        <button type="button" className="btn-secondary mb-3" onClick={() => setAdvanced(!advanced)}>
          {advanced ? 'Hide advanced' : 'Advanced'}
        </button>
        {advanced &&
          text(
            'api_url',
            'Provider base URL',
            'Empty: the provider’s own. Set it for a proxy or a self-hosted endpoint.',
          )}
        <div className="flex flex-wrap gap-2">
          <button type="submit" className="btn-primary" disabled={save.isPending}>
            Save
          </button>
          <button
            type="button"
            className="btn-secondary"
            disabled={!v?.configured || update.isPending}
            onClick={() => update.mutate()}
          >
            Update now
          </button>
        </div>
      </form>
    </section>
  );
}
