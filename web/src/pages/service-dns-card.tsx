// The DNS records a store service needs (GET /api/services/<id>/dns-records): MX, SPF, DKIM, DMARC
// for mail. Each with its name, type and value to copy, whether the cell's own DNS serves it, and
// what the public DNS says (through the cell's forwarders; not checked in local mode). What to do
// with them depends on the domain mode, and the card says it in one sentence.
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError, api, call } from '../api/client';
import { type ServiceDnsRecord, serviceHooks } from '../api/service-hooks';

const PUBLIC_BADGE: Record<ServiceDnsRecord['public'], { label: string; style: string }> = {
  match: { label: 'Published', style: 'bg-green-100 text-green-800 dark:bg-green-950 dark:text-green-300' },
  differs: {
    label: 'Published, different value',
    style: 'bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-300',
  },
  missing: { label: 'Not published', style: 'bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300' },
  unchecked: {
    label: 'Not checked',
    style: 'bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300',
  },
};

function Badge({ label, style, testId }: { label: string; style: string; testId?: string }) {
  return (
    <span
      className={`inline-block rounded px-2 py-0.5 text-xs whitespace-nowrap ${style}`}
      data-testid={testId}
    >
      {label}
    </span>
  );
}

function CopyButton({ text, what }: { text: string; what: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      className="btn-secondary px-2 py-0.5 text-xs"
      aria-label={`Copy ${what}`}
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setDone(true);
          setTimeout(() => setDone(false), 1500);
        } catch {
          window.prompt(`Copy ${what}:`, text);
        }
      }}
    >
      {done ? 'Copied' : 'Copy'}
    </button>
  );
}

function whatToDo(mode: string | undefined, domain: string | undefined): string {
  const d = domain ?? 'your domain';
  if (mode === 'custom')
    return `${d} is your own domain: at your registrar (or wherever its DNS is hosted), add each record below with exactly this name, type and value. Other mail servers look there, not at the cell; "Published" shows once the public DNS answers it.`;
  if (mode === 'local')
    return `In local mode ${d} exists only inside the cell: its DNS serves these records already and there is nothing to publish. Mail reaches the cell's peers only.`;
  return `The cell's DNS serves these records; mail from elsewhere needs them in the public DNS of ${d} too: "Published" shows once the public DNS answers each.`;
}

export function ServiceDnsCard({ id }: { id: string }) {
  const q = useQuery({
    queryKey: ['service-dns-records', id],
    queryFn: () => serviceHooks.dnsRecords(id),
    refetchInterval: 60_000,
    retry: false,
  });
  const config = useQuery({
    queryKey: ['config'],
    queryFn: () => call(api.GET('/api/config')),
    retry: false,
  });
  if (q.error instanceof ApiError && (q.error.status === 409 || q.error.status === 404)) return null;
  if (!q.data && !q.error) return null;
  const identity = config.data?.identity;
  const records = q.data?.records ?? [];
  return (
    <section className="card space-y-3" aria-label="DNS records to publish" data-testid="service-dns">
      <div className="flex items-center justify-between">
        <h2 className="font-semibold">DNS records to publish</h2>
        <button
          type="button"
          className="btn-secondary px-2 py-1 text-xs"
          onClick={() => void q.refetch()}
          disabled={q.isFetching}
        >
          Check again
        </button>
      </div>
      <p className="text-sm text-slate-600 dark:text-slate-400" data-testid="dns-what-to-do">
        {whatToDo(identity?.domain_mode, identity?.domain)}
      </p>
      {q.error && (
        <p role="alert" className="text-sm text-red-700 dark:text-red-400">
          {q.error.message}
        </p>
      )}
      {records.length === 0 && !q.error && <p className="text-sm text-slate-500">No records yet.</p>}
      {records.length > 0 && (
        <ul className="divide-y divide-slate-200 dark:divide-slate-800">
          {records.map((r) => (
            <li
              key={`${r.fqdn} ${r.type} ${r.value}`}
              className="grid gap-2 py-2 text-sm md:grid-cols-[minmax(0,14rem)_3rem_minmax(0,1fr)_max-content]"
              data-testid={`dns-record-${r.type}-${r.name}`}
            >
              <div className="flex min-w-0 items-start gap-2">
                <div className="min-w-0">
                  <span className="text-xs text-slate-500 md:hidden">Name </span>
                  <span className="font-mono">{r.name}</span>
                  <div className="text-xs break-all text-slate-500">{r.fqdn}</div>
                </div>
                <CopyButton text={r.fqdn} what={`the name of the ${r.type} record ${r.name}`} />
              </div>
              <div>
                <span className="text-xs text-slate-500 md:hidden">Type </span>
                <span className="font-mono">{r.type}</span>
              </div>
              <div className="flex min-w-0 items-start gap-2">
                <code className="min-w-0 font-mono text-xs break-all">{r.value}</code>
                <CopyButton text={r.value} what={`the value of the ${r.type} record ${r.name}`} />
              </div>
              <div className="flex flex-wrap gap-1 md:flex-col">
                {r.in_zone ? (
                  <Badge
                    label="In the cell's zone"
                    style="bg-green-100 text-green-800 dark:bg-green-950 dark:text-green-300"
                    testId="in-zone"
                  />
                ) : (
                  <Badge
                    label="Not in the zone"
                    style="bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300"
                    testId="in-zone"
                  />
                )}
                <Badge {...PUBLIC_BADGE[r.public]} testId="public" />
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
