// Identity and network upstreams (changes that restart containers wait for Apply), password, two-factor
// login, log levels, the metrics token. Backups are a section of their own (backups.tsx).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { ApiError, api, call } from '../api/client';
import type { paths } from '../api/schema';
import { ErrorBanner, Field } from '../components/field';
import { SettingsHeader } from '../components/settings-header';
import { ChangePasswordForm } from './change-password';
import { DomainTlsCard } from './domain-tls-card';
import { MetricsTokenCard } from './metrics-token';
import { SecurityCard } from './security';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function SettingsPage() {
  return (
    <div className="space-y-6">
      <SettingsHeader />
      <IdentityForm />
      <DomainTlsCard />
      <NetworkForm />
      <ChangePasswordForm />
      <SecurityCard />
      <LogLevels />
      <MetricsTokenCard />
    </div>
  );
}

function TextInput(o: {
  name: string;
  label: string;
  help?: string | undefined;
  error: string | undefined;
  value: string;
  onChange: (value: string) => void;
}) {
  return (
    <Field label={o.label} help={o.help} error={o.error}>
      {(p) => (
        <input
          {...p}
          name={o.name}
          className="input"
          value={o.value}
          onChange={(e) => o.onChange(e.target.value)}
        />
      )}
    </Field>
  );
}

type ConfigPatch = NonNullable<paths['/api/config']['put']['requestBody']>['content']['application/json'];

/** PUT /api/config with what `build` returns; says whether the change waits for Apply. */
function useSaveConfig(build: () => ConfigPatch) {
  const qc = useQueryClient();
  const [error, setError] = useState<ApiError | undefined>();
  const [saved, setSaved] = useState<string | undefined>();
  const save = useMutation({
    mutationFn: () => call(api.PUT('/api/config', { body: build() })),
    onSuccess: (r) => {
      setError(undefined);
      qc.setQueryData(['config'], r.config);
      void qc.invalidateQueries({ queryKey: ['pending'] });
      setSaved(
        r.pending.pending
          ? `Saved. Waiting to apply (restarts ${r.pending.restart.join(', ')}): use Apply on the Dashboard.`
          : 'Saved.',
      );
    },
    onError: (e) => {
      setSaved(undefined);
      setError(e instanceof ApiError ? e : new ApiError(0, { message: String(e) }));
    },
  });
  /** The message for a field path, or for any item under it (network.dns_forwarders.1). */
  const fieldError = (path: string) =>
    error?.fields.find((f) => f.field === path || f.field.startsWith(`${path}.`))?.message;
  return { save, error, saved, fieldError };
}

/** A whole-form error (one not tied to a field), or what saving did. */
function SaveState({ error, saved }: { error: ApiError | undefined; saved: string | undefined }) {
  return (
    <>
      <ErrorBanner message={error && !error.fields.length ? error.message : undefined} />
      {saved && (
        <p role="status" className="mb-3 text-sm text-green-700 dark:text-green-400">
          {saved}
        </p>
      )}
    </>
  );
}

/** A text input per form key, bound to the form state and its field's error. */
function inputsFor<F extends Record<string, string>>(
  form: F,
  setForm: (next: F) => void,
  error: (key: string) => string | undefined,
) {
  return (key: keyof F & string, label: string, help?: string) => (
    <TextInput
      name={key}
      label={label}
      help={help}
      error={error(key)}
      value={form[key] ?? ''}
      onChange={(v) => setForm({ ...form, [key]: v })}
    />
  );
}

function IdentityForm() {
  const config = useQuery({ queryKey: ['config'], queryFn: () => call(api.GET('/api/config')) });
  const [form, setForm] = useState({
    cell_name: '',
    timezone: '',
    ip_range: '',
    vpn_address: '',
    wg_port: '',
  });
  useEffect(() => {
    const id = config.data?.identity;
    if (id)
      setForm({
        cell_name: id.cell_name,
        timezone: id.timezone,
        ip_range: id.ip_range,
        vpn_address: id.vpn_address,
        wg_port: String(id.wg_port),
      });
  }, [config.data]);

  const { save, error, saved, fieldError } = useSaveConfig(() => {
    const id = config.data!.identity;
    const patch: Record<string, unknown> = {};
    for (const key of Object.keys(form) as (keyof typeof form)[]) {
      const value = key === 'wg_port' ? Number(form.wg_port) : form[key];
      if (value !== id[key]) patch[key] = value;
    }
    return { identity: patch as never };
  });
  const input = inputsFor(form, setForm, (key) => fieldError(`identity.${key}`));

  return (
    <form
      className="card"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <h2 className="mb-3 font-semibold">Identity</h2>
      <SaveState error={error} saved={saved} />
      {/* Disabled until the config is here: its arrival would replace what was typed before it. */}
      <fieldset disabled={!config.data} className="min-w-0">
        <div className="grid gap-x-4 md:grid-cols-2">
          {input('cell_name', 'Cell name')}
          <p className="text-sm md:col-span-2 mb-3">
            Domain: <span className="font-mono">{config.data?.identity.domain}</span> (
            {config.data?.identity.domain_mode}): change it under <strong>Domain and TLS</strong>, which gets
            its certificate before it switches.
          </p>
          {input('timezone', 'Time zone', 'IANA name, e.g. Europe/Berlin')}
          {input('ip_range', 'Cell network', 'RFC 1918 range for the containers')}
          {input('vpn_address', 'VPN address', 'The cell’s address on the VPN, e.g. 10.0.0.1/24')}
          {input('wg_port', 'WireGuard port')}
        </div>
      </fieldset>
      <button type="submit" className="btn-primary" disabled={save.isPending || !config.data}>
        Save identity
      </button>
    </form>
  );
}

/** "a, b c" → ["a", "b", "c"]: lists are typed as text, separated by commas or spaces. */
const splitList = (text: string) => text.split(/[\s,]+/).filter(Boolean);

type TlsForwarder = { address: string; tls_name: string; port?: number };

/** `9.9.9.9#dns.quad9.net@853` ↔ {address, tls_name, port}: one text field for a list of them. */
function parseTlsForwarder(text: string): TlsForwarder {
  const [address = '', rest = ''] = text.split('#');
  const [tls_name = '', port] = rest.split('@');
  return { address, tls_name, ...(port ? { port: Number(port) } : {}) };
}
const formatTlsForwarder = (f: TlsForwarder) => `${f.address}#${f.tls_name}${f.port ? `@${f.port}` : ''}`;

/** Upstreams (nothing leaves the cell until these are set) and the endpoint peers dial. */
function NetworkForm() {
  const config = useQuery({ queryKey: ['config'], queryFn: () => call(api.GET('/api/config')) });
  const [form, setForm] = useState({
    dns_forwarders: '',
    dns_tls_forwarders: '',
    ntp_servers: '',
    endpoint_host: '',
  });
  const [dnssec, setDnssec] = useState(true);
  useEffect(() => {
    const n = config.data?.network;
    if (n) {
      setForm({
        dns_forwarders: n.dns_forwarders.join(', '),
        dns_tls_forwarders: (n.dns_tls_forwarders ?? []).map(formatTlsForwarder).join(', '),
        ntp_servers: n.ntp_servers.join(', '),
        endpoint_host: n.endpoint_host ?? '',
      });
      setDnssec(n.dnssec !== false);
    }
  }, [config.data]);
  const { save, error, saved, fieldError } = useSaveConfig(() => {
    const n = config.data?.network;
    const tls = splitList(form.dns_tls_forwarders).map(parseTlsForwarder);
    return {
      network: {
        dns_forwarders: splitList(form.dns_forwarders),
        // Sent only when they say something: an unchanged default must not look like a pending change.
        ...(tls.length || n?.dns_tls_forwarders ? { dns_tls_forwarders: tls } : {}),
        ...(dnssec !== (n?.dnssec !== false) ? { dnssec } : {}),
        ntp_servers: splitList(form.ntp_servers),
        endpoint_host: form.endpoint_host.trim(),
      },
    };
  });
  const input = inputsFor(form, setForm, (key) => fieldError(`network.${key}`));
  return (
    <form
      className="card"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <h2 className="mb-1 font-semibold">Network</h2>
      <p className="mb-3 text-xs text-slate-500">
        Until upstreams are set nothing leaves the cell: DNS answers the cell’s own names only and time comes
        from this machine’s clock.
      </p>
      <SaveState error={error} saved={saved} />
      {/* Disabled until the config is here: its arrival would replace what was typed before it. */}
      <fieldset disabled={!config.data} className="min-w-0">
        <div className="grid gap-x-4 md:grid-cols-2">
          {input(
            'dns_forwarders',
            'DNS forwarders',
            'IPv4 resolvers, comma-separated, e.g. 9.9.9.9, 1.1.1.1',
          )}
          {input(
            'dns_tls_forwarders',
            'DNS-over-TLS forwarders',
            'address#certificate name[@port], e.g. 9.9.9.9#dns.quad9.net (instead of plain forwarders)',
          )}
          {input('ntp_servers', 'NTP servers', 'Names or addresses, comma-separated')}
          {input(
            'endpoint_host',
            'Public endpoint',
            'Name or address peers dial; empty = a guess from this host',
          )}
        </div>
        <label className="mb-3 flex items-center gap-2 text-sm">
          <input
            type="checkbox"
            name="dnssec"
            checked={dnssec}
            onChange={(e) => setDnssec(e.target.checked)}
          />
          Validate forwarded answers with DNSSEC (recommended)
        </label>
      </fieldset>
      <button type="submit" className="btn-primary" disabled={save.isPending || !config.data}>
        Save network
      </button>
    </form>
  );
}

function LogLevels() {
  const qc = useQueryClient();
  const levels = useQuery({ queryKey: ['log-levels'], queryFn: () => call(api.GET('/api/logs/levels')) });
  const set = useMutation({
    mutationFn: (change: Record<string, string>) =>
      call(api.PUT('/api/logs/levels', { body: { levels: change as never } })),
    onSuccess: (r) => qc.setQueryData(['log-levels'], r),
  });
  return (
    <section className="card">
      <h2 className="mb-3 font-semibold">Log levels</h2>
      <p className="mb-3 text-xs text-slate-500">Take effect at once, without a restart.</p>
      <ErrorBanner message={set.error?.message} />
      <div className="grid gap-3 sm:grid-cols-2 md:grid-cols-3">
        {levels.data?.services.map((s) => (
          <label key={s} className="flex items-center justify-between gap-2 text-sm">
            <span className="font-mono">{s}</span>
            <select
              className="input w-28 py-1"
              name={`level-${s}`}
              value={levels.data.levels[s]}
              onChange={(e) => set.mutate({ [s]: e.target.value })}
            >
              {LEVELS.map((l) => (
                <option key={l}>{l}</option>
              ))}
            </select>
          </label>
        ))}
      </div>
    </section>
  );
}
