// Network Services → Time (NTP): what chronyd in cell-ntp reports — synchronised or not, the offset
// of this clock, the stratum and each source's state, poll and reach. Read-only.
import { useQuery } from '@tanstack/react-query';
import { api, call } from '../api/client';

/** Seconds as the unit that reads best (ns, µs, ms, s), signed. */
export function offset(s: number | null): string {
  if (s === null) return '—';
  const a = Math.abs(s);
  const sign = s < 0 ? '−' : '+';
  if (a < 1e-6) return `${sign}${(a * 1e9).toFixed(0)} ns`;
  if (a < 1e-3) return `${sign}${(a * 1e6).toFixed(0)} µs`;
  if (a < 1) return `${sign}${(a * 1e3).toFixed(1)} ms`;
  return `${sign}${a.toFixed(2)} s`;
}

const STATE_LABEL: Record<string, string> = {
  selected: 'selected',
  combined: 'combined',
  not_combined: 'not combined',
  unreachable: 'unreachable',
  falseticker: 'falseticker',
  variable: 'too variable',
  unknown: 'unknown',
};

export function NtpStatusCard() {
  const st = useQuery({
    queryKey: ['ntp-status'],
    queryFn: () => call(api.GET('/api/ntp/status')),
    refetchInterval: 15_000,
  });
  const s = st.data;
  return (
    <section className="card overflow-x-auto" aria-labelledby="ntp-heading" data-testid="ntp-status">
      <h2 id="ntp-heading" className="mb-3 font-semibold">
        Time (NTP)
      </h2>
      {!s ? (
        <p className="text-sm text-slate-500">{st.isError ? 'Could not read the NTP status.' : 'Loading…'}</p>
      ) : !s.running ? (
        <p role="status" className="text-sm text-red-700 dark:text-red-400">
          The time service is not running (cell-ntp does not answer).
        </p>
      ) : (
        <>
          <div className="mb-3 grid gap-2 text-sm md:grid-cols-3">
            <p>
              <span
                className={
                  s.synchronised ? 'text-green-700 dark:text-green-400' : 'text-amber-700 dark:text-amber-400'
                }
              >
                {s.synchronised ? 'Synchronised' : 'Not synchronised'}
              </span>
              {s.reference ? ` to ${s.reference}` : s.synchronised ? ' (own clock)' : ''}
            </p>
            <p>Offset {offset(s.offset_seconds)}</p>
            <p>Stratum {s.stratum ?? '—'}</p>
          </div>
          {s.sources.length === 0 ? (
            <p className="text-sm text-slate-500">No upstream server: the cell serves its own clock.</p>
          ) : (
            <table className="w-full text-left text-sm">
              <thead>
                <tr>
                  <th className="py-1">Source</th>
                  <th>State</th>
                  <th>Stratum</th>
                  <th>Poll</th>
                  <th>Reach</th>
                  <th>Last sample</th>
                  <th>Offset</th>
                </tr>
              </thead>
              <tbody>
                {s.sources.map((src) => (
                  <tr key={src.address} className="border-t border-slate-200 dark:border-slate-800">
                    <td className="py-1 font-mono">{src.address}</td>
                    <td>{STATE_LABEL[src.state] ?? src.state}</td>
                    <td>{src.stratum}</td>
                    <td>{src.poll} s</td>
                    <td title="the last 8 polls, octal (377 = all answered)" className="font-mono">
                      {src.reach.toString(8)}
                    </td>
                    <td>{src.last_rx_seconds === null ? '—' : `${src.last_rx_seconds} s ago`}</td>
                    <td>{offset(src.offset_seconds)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
