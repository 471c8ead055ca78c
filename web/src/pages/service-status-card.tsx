// What a store service's status hook reports (GET /api/services/<id>/status), read again every 15 s.
// The mail service's shape is shown as such: the outbound smarthost and the queue, each message with
// why it waits. Any other service's status is shown as its JSON.
import { useQuery } from '@tanstack/react-query';
import { ApiError } from '../api/client';
import { serviceHooks } from '../api/service-hooks';

interface QueuedMessage {
  id: string;
  arrival: string;
  size: number;
  sender: string;
  recipients: string[];
  reason: string | null;
}

const asQueue = (v: unknown): QueuedMessage[] | undefined =>
  Array.isArray(v) ? (v as QueuedMessage[]).filter((m) => typeof m === 'object' && m !== null) : undefined;

function when(s: string): string {
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? s : d.toLocaleString();
}

function size(n: unknown): string {
  if (typeof n !== 'number') return '—';
  return n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1048576).toFixed(1)} MB`;
}

export function ServiceStatusCard({ id }: { id: string }) {
  const q = useQuery({
    queryKey: ['service-status', id],
    queryFn: () => serviceHooks.status(id),
    refetchInterval: 15_000,
    retry: false,
  });
  if (q.error instanceof ApiError && (q.error.status === 409 || q.error.status === 404)) return null;
  if (!q.data && !q.error) return null;
  const status = q.data?.status ?? null;
  const queue = status ? asQueue(status.queue) : undefined;
  const hasSmarthost = status !== null && 'smarthost' in status;
  const rest = status
    ? Object.fromEntries(Object.entries(status).filter(([k]) => k !== 'queue' && k !== 'smarthost'))
    : {};
  return (
    <section className="card space-y-3" aria-label="Status" data-testid="service-status">
      <div className="flex items-center justify-between">
        <h2 className="font-semibold">Status</h2>
        <button
          type="button"
          className="btn-secondary px-2 py-1 text-xs"
          onClick={() => void q.refetch()}
          disabled={q.isFetching}
        >
          Refresh
        </button>
      </div>
      {(q.error || q.data?.error) && (
        <p role="alert" className="text-sm text-red-700 dark:text-red-400">
          The service did not report its status: {q.error?.message ?? q.data?.error}
        </p>
      )}
      {hasSmarthost && (
        <p className="text-sm" data-testid="smarthost">
          Outbound mail:{' '}
          {typeof status.smarthost === 'string' && status.smarthost ? (
            <>
              through the smarthost <span className="font-mono">{status.smarthost}</span>
            </>
          ) : (
            'delivered directly (no smarthost set); most home connections cannot send on port 25, so set one in Settings if mail waits'
          )}
        </p>
      )}
      {queue && (
        <div>
          <h3 className="mb-1 text-sm font-medium">
            Queue:{' '}
            {queue.length === 0 ? 'empty' : `${queue.length} message${queue.length === 1 ? '' : 's'} waiting`}
          </h3>
          {queue.length > 0 && (
            <div className="overflow-x-auto">
              <table className="w-full min-w-[40rem] text-left text-sm" data-testid="mail-queue">
                <thead className="text-xs text-slate-500">
                  <tr>
                    <th className="pr-3 font-normal">ID</th>
                    <th className="pr-3 font-normal">Arrived</th>
                    <th className="pr-3 font-normal">Size</th>
                    <th className="pr-3 font-normal">From</th>
                    <th className="pr-3 font-normal">To</th>
                    <th className="font-normal">Why it waits</th>
                  </tr>
                </thead>
                <tbody>
                  {queue.map((m) => (
                    <tr key={m.id} className="border-t border-slate-200 align-top dark:border-slate-800">
                      <td className="pr-3 font-mono text-xs">{m.id}</td>
                      <td className="pr-3 whitespace-nowrap">{when(m.arrival)}</td>
                      <td className="pr-3 whitespace-nowrap">{size(m.size)}</td>
                      <td className="pr-3 break-all">{m.sender || '<>'}</td>
                      <td className="pr-3 break-all">{(m.recipients ?? []).join(', ')}</td>
                      <td className="break-words text-amber-800 dark:text-amber-300">{m.reason ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
      {Object.keys(rest).length > 0 && (
        <pre className="overflow-x-auto rounded bg-slate-50 p-2 text-xs dark:bg-slate-950">
          {JSON.stringify(rest, null, 2)}
        </pre>
      )}
      {status === null && !q.data?.error && !q.error && (
        <p className="text-sm text-slate-500">Nothing reported yet.</p>
      )}
    </section>
  );
}
