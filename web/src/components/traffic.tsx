// Traffic of peers: byte and age formatting, and a per-peer graph of received/sent rates drawn as inline
// SVG from the sampled counters (GET /api/peers/{name}/traffic, one sample every 30 s while connected).
import { useQuery } from '@tanstack/react-query';
import { api, call } from '../api/client';

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function age(s: number | null): string {
  if (s === null) return 'never';
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

/** Received and sent bytes per second between samples, as two polylines. */
export function TrafficGraph({ name, compact = false }: { name: string; compact?: boolean }) {
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
        className={compact ? 'h-16 w-full' : 'h-40 w-full'}
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
