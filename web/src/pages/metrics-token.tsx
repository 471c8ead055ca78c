// Settings → Metrics: create the Prometheus scrape token (shown once) and the scrape config to paste.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call } from '../api/client';
import { ErrorBanner } from '../components/field';

export function MetricsTokenCard() {
  const qc = useQueryClient();
  const status = useQuery({
    queryKey: ['metrics-token'],
    queryFn: () => call(api.GET('/api/metrics/token')),
  });
  const [token, setToken] = useState<string | undefined>();
  const create = useMutation({
    mutationFn: () => call(api.POST('/api/metrics/token')),
    onSuccess: (r) => {
      setToken(r.token);
      void qc.invalidateQueries({ queryKey: ['metrics-token'] });
    },
  });
  const configured = status.data?.configured ?? false;
  const host = typeof window === 'undefined' ? 'CELL' : window.location.host;
  const scheme = typeof window === 'undefined' ? 'http' : window.location.protocol.replace(':', '');
  return (
    <section className="card" aria-labelledby="metrics-heading">
      <h2 id="metrics-heading" className="mb-3 font-semibold">
        Metrics (Prometheus)
      </h2>
      <p className="mb-3 text-sm text-slate-500">
        <code>/metrics</code> serves peers, traffic, service health and request timings in Prometheus' text
        format to whoever sends the scrape token.{' '}
        {configured && status.data?.created_at
          ? `A token exists (created ${new Date(status.data.created_at).toLocaleString()}).`
          : 'No token yet: /metrics answers 401.'}
      </p>
      <ErrorBanner message={create.error?.message} />
      {token ? (
        <div className="mb-3 space-y-2">
          <p className="text-sm font-medium">Copy it now: it is not shown again.</p>
          <input
            className="input font-mono"
            readOnly
            name="metrics-token"
            value={token}
            onFocus={(e) => e.target.select()}
          />
          <pre className="overflow-x-auto rounded bg-slate-100 p-2 text-xs dark:bg-slate-800">{`scrape_configs:
  - job_name: pic
    scheme: ${scheme}
    authorization:
      credentials: ${token}
    static_configs:
      - targets: ['${host}']`}</pre>
        </div>
      ) : null}
      <button
        type="button"
        className="btn"
        disabled={create.isPending}
        onClick={() => {
          if (
            !configured ||
            window.confirm('A new token replaces the current one: scrapers using it stop working. Continue?')
          )
            create.mutate();
        }}
      >
        {configured ? 'Replace token' : 'Create token'}
      </button>
    </section>
  );
}
