// Requests refused without a session (failed logins, probes), counted per source and minute. They are
// kept apart from the audit trail so that noise can never push the owner's actions out of it.
import { useQuery } from '@tanstack/react-query';
import { api, call } from '../api/client';
import { ErrorBanner } from '../components/field';

export function AnonymousRefusals() {
  const refusals = useQuery({
    queryKey: ['audit-refusals'],
    queryFn: () => call(api.GET('/api/logs/audit/refusals', { params: { query: { limit: 50 } } })),
  });
  return (
    <section className="card" aria-labelledby="refusals-heading">
      <h2 id="refusals-heading" className="mb-1 font-semibold">
        Refused without a session
      </h2>
      <p className="mb-3 text-xs text-slate-500">
        Failed logins and probes from addresses without a session, one line per address and minute.
      </p>
      <ErrorBanner message={refusals.error?.message} />
      <div className="overflow-x-auto">
        <table className="w-full text-left text-sm" data-testid="refusals-table">
          <thead className="text-xs text-slate-500">
            <tr>
              <th className="py-1 pr-3">Minute</th>
              <th className="py-1 pr-3">Source</th>
              <th className="py-1 pr-3">Count</th>
              <th className="py-1 pr-3">Last request</th>
              <th className="py-1 pr-3">Target</th>
            </tr>
          </thead>
          <tbody>
            {refusals.data?.items.map((r) => (
              <tr key={r.id} className="border-t border-slate-200 dark:border-slate-800">
                <td className="py-1 pr-3 whitespace-nowrap">{new Date(r.minute).toLocaleString()}</td>
                <td className="py-1 pr-3 font-mono">{r.source}</td>
                <td className="py-1 pr-3">{r.count}</td>
                <td className="py-1 pr-3 font-mono">
                  {r.last_action} {r.last_status ? `(${r.last_status})` : ''}
                </td>
                <td className="py-1 pr-3">{r.last_target ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {refusals.data && refusals.data.total === 0 ? <p className="text-sm">None.</p> : null}
      </div>
    </section>
  );
}
