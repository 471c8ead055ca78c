// WireGuard: the interface (running, listen port, public endpoint and key) and each peer's handshake,
// endpoint and traffic, with a per-peer traffic graph drawn as inline SVG from the sampled series.
// The endpoint's warnings (a private address, not this host) are shared with the Dashboard and the
// setup wizard from here.
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call } from '../api/client';
import { age, bytes, TrafficGraph } from '../components/traffic';
import { Link } from '../router';

export type EndpointSource = 'config' | 'host_route' | 'host_name' | 'guess';

/** Where the endpoint came from, in the owner's words. */
export const ENDPOINT_SOURCE: Record<EndpointSource, string> = {
  config: 'set in Settings → Network',
  host_route: 'this host’s address on its network, found by ./pic up',
  host_name: 'this host’s name, found by ./pic up',
  guess: 'a guess from the cell’s own interfaces',
};

/**
 * The API's warnings about the endpoint, each followed by a link to Settings, where Network sets it.
 * The link is named for what it does, not "Settings": the sidebar's Settings link stays the only one.
 */
export function EndpointWarnings({ warnings }: { warnings: { code: string; message: string }[] }) {
  if (warnings.length === 0) return null;
  return (
    <ul className="space-y-2" data-testid="endpoint-warnings">
      {warnings.map((w) => (
        <li
          key={w.code}
          data-code={w.code}
          role="status"
          className="rounded-md bg-amber-50 p-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200"
        >
          {w.message}{' '}
          <Link href="/settings" className="font-medium underline">
            Change the endpoint
          </Link>
        </li>
      ))}
    </ul>
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
          <p>
            Public endpoint <span data-testid="endpoint">{s.endpoint}</span>{' '}
            <span className="text-xs text-slate-500">({ENDPOINT_SOURCE[s.endpoint_source]})</span>
          </p>
          <p className="md:col-span-2 break-all font-mono text-xs">Public key {s.public_key}</p>
          <div className="md:col-span-2">
            <EndpointWarnings warnings={s.endpoint_warnings} />
          </div>
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
