// The cell's own containers: state and health (live), start/stop/restart, log tail, mounts.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call } from '../api/client';
import { ErrorBanner } from '../components/field';

const HEALTH_STYLE: Record<string, string> = {
  healthy: 'bg-green-100 text-green-800 dark:bg-green-950 dark:text-green-300',
  starting: 'bg-yellow-100 text-yellow-800 dark:bg-yellow-950 dark:text-yellow-300',
  unhealthy: 'bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300',
};

export function ContainersPage() {
  const qc = useQueryClient();
  const [selected, setSelected] = useState<string | undefined>();
  const list = useQuery({
    queryKey: ['containers'],
    queryFn: () => call(api.GET('/api/containers')),
    refetchInterval: 5000,
    retry: false,
  });
  const act = useMutation({
    mutationFn: ({ name, verb }: { name: string; verb: 'start' | 'stop' | 'restart' }) => {
      const params = { params: { path: { name } } };
      if (verb === 'start') return call(api.POST('/api/containers/{name}/start', params));
      if (verb === 'stop') return call(api.POST('/api/containers/{name}/stop', params));
      return call(api.POST('/api/containers/{name}/restart', params));
    },
    onSettled: () => qc.invalidateQueries({ queryKey: ['containers'] }),
  });

  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-bold">Containers</h1>
      <ErrorBanner message={list.error?.message ?? act.error?.message} />
      <section className="card overflow-x-auto">
        <table className="w-full text-left text-sm" data-testid="containers-table">
          <thead className="text-xs text-slate-500">
            <tr>
              <th className="py-1 pr-3">Container</th>
              <th className="py-1 pr-3">State</th>
              <th className="py-1 pr-3">Health</th>
              <th className="py-1 pr-3">Address</th>
              <th className="py-1 pr-3">Restarts</th>
              <th className="py-1 pr-3">Actions</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.containers.map((c) => (
              <tr key={c.name} className="border-t border-slate-200 dark:border-slate-800">
                <td className="py-2 pr-3 font-mono">
                  <button type="button" className="underline" onClick={() => setSelected(c.name)}>
                    {c.name}
                  </button>
                </td>
                <td className="py-2 pr-3">{c.state}</td>
                <td className="py-2 pr-3">
                  <span
                    className={`rounded px-2 py-0.5 text-xs ${HEALTH_STYLE[c.health ?? ''] ?? 'bg-slate-100 dark:bg-slate-800'}`}
                  >
                    {c.health ?? 'no check'}
                  </span>
                </td>
                <td className="py-2 pr-3 font-mono">{c.ip ?? '—'}</td>
                <td className="py-2 pr-3">{c.restart_count}</td>
                <td className="flex flex-wrap gap-2 py-2 pr-3">
                  <button
                    type="button"
                    className="btn-secondary px-2 py-1"
                    disabled={act.isPending}
                    onClick={() => act.mutate({ name: c.name, verb: 'restart' })}
                  >
                    Restart
                  </button>
                  {c.state === 'running' ? (
                    <button
                      type="button"
                      className="btn-secondary px-2 py-1"
                      disabled={act.isPending || c.service === 'api'}
                      title={
                        c.service === 'api'
                          ? 'This container runs the API: stop it with ./pic down'
                          : undefined
                      }
                      onClick={() => {
                        if (
                          window.confirm(`Stop ${c.name}? Its service is unavailable until it starts again.`)
                        ) {
                          act.mutate({ name: c.name, verb: 'stop' });
                        }
                      }}
                    >
                      Stop
                    </button>
                  ) : (
                    <button
                      type="button"
                      className="btn-secondary px-2 py-1"
                      disabled={act.isPending}
                      onClick={() => act.mutate({ name: c.name, verb: 'start' })}
                    >
                      Start
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {selected && <ContainerDetail name={selected} />}
    </div>
  );
}

function ContainerDetail({ name }: { name: string }) {
  const detail = useQuery({
    queryKey: ['container', name],
    queryFn: () => call(api.GET('/api/containers/{name}', { params: { path: { name } } })),
  });
  const logs = useQuery({
    queryKey: ['container-logs', name],
    queryFn: () =>
      call(api.GET('/api/containers/{name}/logs', { params: { path: { name }, query: { tail: 200 } } })),
    refetchInterval: 5000,
  });
  return (
    <section className="card space-y-3">
      <h2 className="font-semibold">{name}</h2>
      <ErrorBanner message={detail.error?.message ?? logs.error?.message} />
      {detail.data && (
        <>
          <p className="text-sm">
            Image <code>{detail.data.image}</code>, started{' '}
            {detail.data.started_at ? new Date(detail.data.started_at).toLocaleString() : '—'}
          </p>
          <h3 className="text-sm font-medium">Mounts</h3>
          <ul className="list-inside list-disc font-mono text-xs">
            {detail.data.mounts.map((m) => (
              <li key={m.destination}>
                {m.source} → {m.destination}
                {m.read_only ? ' (read-only)' : ''}
              </li>
            ))}
          </ul>
        </>
      )}
      <h3 className="text-sm font-medium">Log (last 200 lines)</h3>
      <pre
        className="max-h-96 overflow-auto rounded bg-slate-100 p-3 text-xs dark:bg-slate-950"
        data-testid="container-logs"
      >
        {logs.data?.logs ?? 'Loading…'}
      </pre>
    </section>
  );
}
