// Identity, live service health (every 5 s), where devices dial and what may stop them, traffic of the
// busiest peers, pending configuration changes.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call } from '../api/client';
import { ErrorBanner } from '../components/field';
import { age, bytes, TrafficGraph } from '../components/traffic';
import { ENDPOINT_SOURCE, EndpointWarnings } from './wireguard';

/** The peers that moved the most bytes, each with its graph of the last hour. */
function PeerTraffic() {
  const wg = useQuery({
    queryKey: ['wg-status'],
    queryFn: () => call(api.GET('/api/wireguard/status')),
    refetchInterval: 10_000,
  });
  const busiest = [...(wg.data?.peers ?? [])].sort((a, b) => b.rx + b.tx - (a.rx + a.tx)).slice(0, 5);
  return (
    <section className="card" aria-labelledby="traffic-h">
      <h2 id="traffic-h" className="mb-3 font-semibold">
        Peer traffic
      </h2>
      {busiest.length === 0 ? (
        <p className="text-sm text-slate-500">No peers yet: add one on the Peers page.</p>
      ) : (
        <ul className="grid gap-4 md:grid-cols-2">
          {busiest.map((p) => (
            <li key={p.name} data-testid={`traffic-${p.name}`}>
              <p className="text-sm">
                <span className="font-medium">{p.name}</span>{' '}
                <span className="text-xs text-slate-500">
                  ↓ {bytes(p.rx)} · ↑ {bytes(p.tx)} · handshake {age(p.handshake_age_s)}
                </span>
              </p>
              <TrafficGraph name={p.name} compact />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The endpoint written into exported configs, and its warnings (a private address, not this host). */
function PeerEndpoint() {
  const wg = useQuery({
    queryKey: ['wg-status'],
    queryFn: () => call(api.GET('/api/wireguard/status')),
    refetchInterval: 10_000,
  });
  const s = wg.data;
  if (!s) return null;
  return (
    <section className="card" aria-labelledby="endpoint-h">
      <h2 id="endpoint-h" className="mb-2 font-semibold">
        Where devices connect
      </h2>
      <p className="mb-3 text-sm">
        Peer configs dial <span className="font-mono">{s.endpoint}</span>{' '}
        <span className="text-xs text-slate-500">({ENDPOINT_SOURCE[s.endpoint_source]})</span>
      </p>
      <EndpointWarnings warnings={s.endpoint_warnings} />
    </section>
  );
}

const STATE_STYLE: Record<string, string> = {
  running: 'bg-green-100 text-green-800 dark:bg-green-950 dark:text-green-300',
  starting: 'bg-yellow-100 text-yellow-800 dark:bg-yellow-950 dark:text-yellow-300',
  unhealthy: 'bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300',
  stopped: 'bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300',
};

export function DashboardPage() {
  const qc = useQueryClient();
  const config = useQuery({ queryKey: ['config'], queryFn: () => call(api.GET('/api/config')) });
  const status = useQuery({
    queryKey: ['services-status'],
    queryFn: () => call(api.GET('/api/services/status')),
    refetchInterval: 5000,
  });
  const pending = useQuery({ queryKey: ['pending'], queryFn: () => call(api.GET('/api/config/pending')) });
  const apply = useMutation({
    mutationFn: () => call(api.POST('/api/config/apply')),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['pending'] });
      void qc.invalidateQueries({ queryKey: ['services-status'] });
    },
  });
  const id = config.data?.identity;

  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-bold">Dashboard</h1>
      <section className="card" aria-labelledby="identity-h">
        <h2 id="identity-h" className="mb-3 font-semibold">
          Identity
        </h2>
        {id ? (
          <dl className="grid grid-cols-[max-content_1fr] gap-x-6 gap-y-1 text-sm">
            <dt className="text-slate-500">Cell name</dt>
            <dd data-testid="identity-name">{id.cell_name}</dd>
            <dt className="text-slate-500">Domain</dt>
            <dd>
              {id.domain} <span className="text-slate-500">({id.domain_mode})</span>
            </dd>
            <dt className="text-slate-500">Time zone</dt>
            <dd>{id.timezone}</dd>
            <dt className="text-slate-500">VPN address</dt>
            <dd>{id.vpn_address}</dd>
            <dt className="text-slate-500">Cell network</dt>
            <dd>{id.ip_range}</dd>
            <dt className="text-slate-500">WireGuard port</dt>
            <dd>{id.wg_port}</dd>
          </dl>
        ) : (
          <p className="text-sm text-slate-500">Loading…</p>
        )}
      </section>

      <section className="card" aria-labelledby="health-h">
        <h2 id="health-h" className="mb-3 font-semibold">
          Services
        </h2>
        {status.data?.data_plane === 'not_running' && (
          <div
            className="mb-3 rounded-md bg-amber-50 p-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200"
            role="status"
          >
            The data plane is not running: the API runs without containers (<code>pic serve</code>). Start the
            cell with <code>./pic up</code>.
          </div>
        )}
        <ul className="divide-y divide-slate-200 dark:divide-slate-800">
          {status.data?.services.map((s) => (
            <li key={s.name} className="flex flex-wrap items-center gap-3 py-2 text-sm">
              <span className="w-36 font-mono">{s.name}</span>
              <span
                className={`rounded px-2 py-0.5 text-xs ${STATE_STYLE[s.state] ?? 'bg-slate-100 dark:bg-slate-800'}`}
              >
                {s.state.replace('_', ' ')}
              </span>
              {s.since && (
                <span className="text-xs text-slate-500">since {new Date(s.since).toLocaleString()}</span>
              )}
              {s.last_error && <span className="w-full text-xs text-red-600">{s.last_error}</span>}
            </li>
          ))}
        </ul>
      </section>

      <PeerEndpoint />

      <PeerTraffic />

      <section className="card" aria-labelledby="pending-h">
        <h2 id="pending-h" className="mb-3 font-semibold">
          Pending changes
        </h2>
        <ErrorBanner message={apply.error?.message} />
        {pending.data?.pending ? (
          <>
            <ul className="mb-3 list-inside list-disc text-sm">
              {pending.data.changes.map((c) => (
                <li key={c.field}>
                  <code>{c.field}</code>: {JSON.stringify(c.from)} → {JSON.stringify(c.to)} (restarts{' '}
                  {c.restart.join(', ')})
                </li>
              ))}
            </ul>
            <button
              type="button"
              className="btn-primary"
              disabled={apply.isPending}
              onClick={() => apply.mutate()}
            >
              {apply.isPending ? 'Applying…' : 'Apply changes'}
            </button>
          </>
        ) : (
          <p className="text-sm text-slate-500">
            Nothing waiting: the running cell matches the configuration.
          </p>
        )}
      </section>
    </div>
  );
}
