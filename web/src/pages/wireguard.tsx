// WireGuard: the interface (running, listen port, public endpoint and key) and each peer's handshake,
// endpoint and traffic, with a per-peer traffic graph drawn as inline SVG from the sampled series.
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call } from '../api/client';

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
}

function age(s: number | null): string {
  if (s === null) return 'never';
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

/** Received and sent bytes per second between samples, as two polylines. */
function TrafficGraph({ name }: { name: string }) {
  const since = new Date(Date.now() - 3600_000).toISOString();
  const t = useQuery({
    queryKey: ['traffic', name],
    queryFn: () =>
      call(api.GET('/api/peers/{name}/traffic', { params: { path: { name }, query: { since } } })),
    refetchInterval: 30_000,
  });
  const s = t.data?.samples ?? [];
  if (s.length < 2)
    return <p className="text-sm text-slate-500">Not enough samples yet (one every 30 s while connected).</p>;
  const rates = s.slice(1).map((cur, i) => {
    const prev = s[i]!;
    const dt = Math.max(1, (Date.parse(cur.ts) - Date.parse(prev.ts)) / 1000);
    return {
      ts: Date.parse(cur.ts),
      rx: Math.max(0, cur.rx - prev.rx) / dt,
      tx: Math.max(0, cur.tx - prev.tx) / dt,
    };
  });
  const W = 600;
  const H = 160;
  const t0 = rates[0]!.ts;
  const t1 = rates.at(-1)!.ts;
  const max = Math.max(1, ...rates.map((r) => Math.max(r.rx, r.tx)));
  const pts = (k: 'rx' | 'tx') =>
    rates
      .map(
        (r) =>
          `${(((r.ts - t0) / Math.max(1, t1 - t0)) * W).toFixed(1)},${(H - (r[k] / max) * H).toFixed(1)}`,
      )
      .join(' ');
  return (
    <figure>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        className="h-40 w-full"
        role="img"
        aria-label={`Traffic of ${name} over the last hour`}
      >
        <polyline points={pts('rx')} fill="none" stroke="#6366f1" strokeWidth="2" />
        <polyline points={pts('tx')} fill="none" stroke="#10b981" strokeWidth="2" />
      </svg>
      <figcaption className="text-xs text-slate-500">
        <span className="text-indigo-500">received</span> / <span className="text-emerald-500">sent</span>,
        peak {bytes(max)}/s
      </figcaption>
    </figure>
  );
}

export function WireguardPage() {
  const st = useQuery({
    queryKey: ['wg-status'],
    queryFn: () => call(api.GET('/api/wireguard/status')),
    refetchInterval: 10_000,
  });
  const [graph, setGraph] = useState<string | undefined>();
  const s = st.data;
  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-bold">WireGuard</h1>
      {s && (
        <section className="card grid gap-2 text-sm md:grid-cols-2">
          <p>
            Interface <strong>{s.interface}</strong>:{' '}
            <span
              className={s.running ? 'text-green-700 dark:text-green-400' : 'text-red-700 dark:text-red-400'}
            >
              {s.running ? 'running' : 'not running'}
            </span>
            {s.pending && ' · changes waiting to apply'}
          </p>
          <p>Address {s.address}</p>
          <p>Listen port {s.listen_port}/udp</p>
          <p>Public endpoint {s.endpoint}</p>
          <p className="md:col-span-2 break-all font-mono text-xs">Public key {s.public_key}</p>
        </section>
      )}
      <section className="card overflow-x-auto">
        <h2 className="mb-2 font-semibold">Peers</h2>
        <table className="w-full text-left text-sm">
          <thead>
            <tr>
              <th className="py-1">Peer</th>
              <th>Address</th>
              <th>Handshake</th>
              <th>Endpoint</th>
              <th>Received</th>
              <th>Sent</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {s?.peers.map((p) => (
              <tr key={p.name} className="border-t border-slate-200 dark:border-slate-800">
                <td className="py-1">
                  {p.name}
                  {!p.enabled && <span className="text-xs text-slate-500"> (disabled)</span>}
                </td>
                <td className="font-mono">{p.address}</td>
                <td>{age(p.handshake_age_s)}</td>
                <td className="font-mono">{p.endpoint ?? '—'}</td>
                <td>{bytes(p.rx)}</td>
                <td>{bytes(p.tx)}</td>
                <td>
                  <button
                    type="button"
                    className="btn-secondary"
                    onClick={() => setGraph(graph === p.name ? undefined : p.name)}
                  >
                    Graph
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {graph && (
          <div className="mt-4">
            <h3 className="mb-1 text-sm font-medium">Traffic of {graph}</h3>
            <TrafficGraph name={graph} />
          </div>
        )}
      </section>
    </div>
  );
}
