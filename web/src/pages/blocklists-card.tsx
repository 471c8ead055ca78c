// The Blocklists card of Network Services (ADR 0020): lists of names the cell answers NXDOMAIN for,
// to the peers with blocking on (each peer's "DNS blocklists" box). Lists come from a URL (fetched now
// and daily) or an uploaded file; each shows its names, its invalid lines and its last fetch or error.
// Below them, the queries blocked per peer over 24 h / 7 d / 30 d with the names blocked most (ADR
// 0020, amendment: counts and names only, never a query log), and a reset.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError, api, call } from '../api/client';
import { ErrorBanner, Field } from '../components/field';

const asError = (e: unknown) => (e instanceof ApiError ? e : new ApiError(0, { message: String(e) }));
const KEY = ['dns-blocklists'];
const MAX_MB = 20;

type Blocklist = {
  id: number;
  kind: 'url' | 'upload';
  source: string;
  enabled: boolean;
  domains: number;
  invalid_lines: number;
  last_fetched: string | null;
  last_error: string | null;
};

function AddList() {
  const qc = useQueryClient();
  const [url, setUrl] = useState('');
  const [error, setError] = useState<ApiError | undefined>();
  const [uploadError, setUploadError] = useState<string | undefined>();
  const done = () => {
    void qc.invalidateQueries({ queryKey: KEY });
    void qc.invalidateQueries({ queryKey: ['dns-blocklist-stats'] });
  };
  const add = useMutation({
    mutationFn: () => call(api.POST('/api/dns/blocklists', { body: { url } })),
    onSuccess: () => {
      setError(undefined);
      setUrl('');
      done();
    },
    onError: (e) => setError(asError(e)),
  });
  const upload = useMutation({
    mutationFn: (file: File) =>
      call(
        api.POST('/api/dns/blocklists/upload', {
          params: { query: { name: file.name.replace(/[^A-Za-z0-9._() -]/g, '_').slice(0, 100) || 'list' } },
          // The raw file: the route reads the body as it is (application/octet-stream).
          body: file as unknown as string,
          bodySerializer: (b: unknown) => b as BodyInit,
          headers: { 'content-type': 'application/octet-stream' },
        }),
      ),
    onSuccess: () => {
      setUploadError(undefined);
      done();
    },
    onError: (e) => setUploadError(asError(e).message),
  });
  return (
    <div className="card space-y-3">
      <form
        aria-label="Add a blocklist URL"
        onSubmit={(e) => {
          e.preventDefault();
          add.mutate();
        }}
      >
        <ErrorBanner message={error && !error.fieldMessage('url') ? error.message : undefined} />
        <Field
          label="List URL"
          help="http or https; hosts format (0.0.0.0 ads.example) or one name a line. Fetched now and daily."
          error={error?.fieldMessage('url')}
        >
          {(p) => (
            <input
              {...p}
              name="url"
              className="input font-mono"
              placeholder="https://example.org/hosts.txt"
              value={url}
              onChange={(e) => setUrl(e.target.value)}
              required
            />
          )}
        </Field>
        <button type="submit" className="btn-primary" disabled={add.isPending}>
          {add.isPending ? 'Fetching…' : 'Add list'}
        </button>
      </form>
      <div>
        <label className="block text-sm font-medium" htmlFor="blocklist-file">
          Or upload a list file (at most {MAX_MB} MB)
        </label>
        <input
          id="blocklist-file"
          type="file"
          accept=".txt,.hosts,text/plain"
          className="mt-1 text-sm"
          disabled={upload.isPending}
          onChange={(e) => {
            const file = e.target.files?.[0];
            e.target.value = '';
            if (!file) return;
            if (file.size > MAX_MB * 1024 * 1024) setUploadError(`The file is larger than ${MAX_MB} MB`);
            else upload.mutate(file);
          }}
        />
        <ErrorBanner message={uploadError} />
      </div>
    </div>
  );
}

function ListRow({ list }: { list: Blocklist }) {
  const qc = useQueryClient();
  const [error, setError] = useState<string | undefined>();
  const done = () => {
    void qc.invalidateQueries({ queryKey: KEY });
    void qc.invalidateQueries({ queryKey: ['dns-blocklist-stats'] });
  };
  const toggle = useMutation({
    mutationFn: () =>
      call(
        api.PUT('/api/dns/blocklists/{id}', {
          params: { path: { id: list.id } },
          body: { enabled: !list.enabled },
        }),
      ),
    onSuccess: done,
    onError: (e) => setError(asError(e).message),
  });
  const remove = useMutation({
    mutationFn: () => call(api.DELETE('/api/dns/blocklists/{id}', { params: { path: { id: list.id } } })),
    onSuccess: done,
    onError: (e) => setError(asError(e).message),
  });
  return (
    <tr className="border-b border-slate-200 dark:border-slate-800">
      <td className="break-all py-2 pr-4 font-mono text-sm">
        {list.source}
        {list.kind === 'upload' ? <span className="ml-2 text-xs text-slate-500">(uploaded)</span> : null}
      </td>
      <td className="py-2 pr-4 text-sm">{list.domains.toLocaleString()}</td>
      <td className="py-2 pr-4 text-sm">{list.invalid_lines.toLocaleString()}</td>
      <td className="py-2 pr-4 text-sm">
        {list.last_fetched ? new Date(list.last_fetched).toLocaleString() : '—'}
        {list.last_error ? (
          <div className="text-red-700 dark:text-red-400" role="status">
            {list.last_error}
          </div>
        ) : null}
      </td>
      <td className="py-2 pr-4">
        <label className="flex items-center gap-2 text-sm">
          <input
            type="checkbox"
            checked={list.enabled}
            disabled={toggle.isPending}
            onChange={() => toggle.mutate()}
            aria-label={`Enable ${list.source}`}
          />
          Enabled
        </label>
      </td>
      <td className="py-2 text-right">
        <button
          type="button"
          className="btn-secondary text-red-700 dark:text-red-400"
          aria-label={`Delete blocklist ${list.source}`}
          onClick={() => {
            if (window.confirm(`Delete the blocklist ${list.source}?`)) remove.mutate();
          }}
        >
          Delete
        </button>
        <ErrorBanner message={error} />
      </td>
    </tr>
  );
}

type Window = '24h' | '7d' | '30d';
const WINDOWS: Array<[Window, string]> = [
  ['24h', 'last 24 hours'],
  ['7d', 'last 7 days'],
  ['30d', 'last 30 days'],
];
export const STATS_KEY = ['dns-blocklist-stats'];

const topText = (top: Array<{ name: string; count: number }>) =>
  top.length
    ? top.map((t) => `${t.name === '-' ? '(other names)' : t.name} (${t.count.toLocaleString()})`).join(', ')
    : '—';

/** Blocked queries per peer over a window, the names blocked most, and a reset. */
function BlockedQueries() {
  const qc = useQueryClient();
  const [period, setPeriod] = useState<Window>('24h');
  const [error, setError] = useState<string | undefined>();
  const stats = useQuery({
    queryKey: [...STATS_KEY, period],
    queryFn: () => call(api.GET('/api/dns/blocklists/stats', { params: { query: { window: period } } })),
    refetchInterval: 30_000,
  });
  const reset = useMutation({
    mutationFn: () => call(api.POST('/api/dns/blocklists/stats/reset')),
    onSuccess: () => {
      setError(undefined);
      void qc.invalidateQueries({ queryKey: STATS_KEY });
    },
    onError: (e) => setError(asError(e).message),
  });
  const s = stats.data;
  return (
    <section className="card space-y-3" aria-labelledby="blocked-queries-heading">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h3 id="blocked-queries-heading" className="font-semibold">
          Blocked queries
        </h3>
        <label className="text-sm">
          <span className="mr-2">Period</span>
          <select
            className="input w-auto"
            value={period}
            onChange={(e) => setPeriod(e.target.value as Window)}
            aria-label="Period"
          >
            {WINDOWS.map(([w, label]) => (
              <option key={w} value={w}>
                {label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBanner message={stats.error ? asError(stats.error).message : error} />
      {s ? (
        <>
          <p className="text-sm" role="status" aria-label="Blocked queries total">
            {s.total.toLocaleString()} queries blocked since {new Date(s.since).toLocaleString()}
            {s.top.length ? ` · most blocked: ${topText(s.top.slice(0, 5))}` : ''}
          </p>
          <table className="w-full text-left text-sm">
            <thead>
              <tr className="text-xs uppercase text-slate-500">
                <th className="py-2 pr-4">Peer</th>
                <th className="py-2 pr-4">Blocking</th>
                <th className="py-2 pr-4">Blocked</th>
                <th className="py-2">Names blocked most</th>
              </tr>
            </thead>
            <tbody>
              {s.peers.map((p) => (
                <tr key={p.address} className="border-t border-slate-200 dark:border-slate-700">
                  <td className="py-2 pr-4">
                    {p.peer ?? <span className="text-slate-500">(removed peer)</span>}{' '}
                    <span className="text-xs text-slate-500">{p.address}</span>
                  </td>
                  <td className="py-2 pr-4">{p.blocking === null ? '—' : p.blocking ? 'on' : 'off'}</td>
                  <td className="py-2 pr-4">{p.blocked.toLocaleString()}</td>
                  <td className="py-2 break-all">{topText(p.top)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {s.peers.length === 0 ? <p className="text-sm text-slate-500">No peer yet.</p> : null}
        </>
      ) : null}
      <p className="text-xs text-slate-500">
        Only counts and names are kept (per peer and hour, 30 days): no query log, nothing about answered
        queries.
      </p>
      <button
        type="button"
        className="btn-secondary"
        disabled={reset.isPending}
        onClick={() => {
          if (window.confirm('Forget every blocked-query count? Counting starts again now.')) reset.mutate();
        }}
      >
        Reset counts
      </button>
    </section>
  );
}

export function BlocklistsCard() {
  const qc = useQueryClient();
  const lists = useQuery({ queryKey: KEY, queryFn: () => call(api.GET('/api/dns/blocklists')) });
  const stats = useQuery({
    queryKey: [...STATS_KEY, '24h'],
    queryFn: () => call(api.GET('/api/dns/blocklists/stats', { params: { query: { window: '24h' } } })),
    refetchInterval: 30_000,
  });
  const [error, setError] = useState<string | undefined>();
  const refresh = useMutation({
    mutationFn: () => call(api.POST('/api/dns/blocklists/refresh')),
    onSuccess: () => {
      setError(undefined);
      void qc.invalidateQueries({ queryKey: KEY });
      void qc.invalidateQueries({ queryKey: ['dns-blocklist-stats'] });
    },
    onError: (e) => setError(asError(e).message),
  });
  const s = stats.data;
  return (
    <section aria-labelledby="blocklists-heading" className="space-y-4">
      <h2 id="blocklists-heading" className="text-xl font-semibold">
        Blocklists
      </h2>
      <p className="text-sm text-slate-600 dark:text-slate-400">
        Names on these lists get no answer (NXDOMAIN) for the peers with blocking on — set per peer, on by
        default. Other devices (your LAN) are not filtered. Nothing is fetched until you add a list.
      </p>
      {s ? (
        <p className="text-sm" role="status">
          {s.blocked_names.toLocaleString()} names blocked ·{' '}
          {s.blocked_queries === null
            ? 'queries blocked: unknown (cell-dns is not running)'
            : `${s.blocked_queries.toLocaleString()} queries blocked since cell-dns started`}{' '}
          · {s.peers_blocking} of {s.peers.filter((p) => p.peer !== null).length} peers blocking
        </p>
      ) : null}
      <AddList />
      <div className="card overflow-x-auto">
        <ErrorBanner message={lists.error ? asError(lists.error).message : error} />
        {lists.data && lists.data.length === 0 ? (
          <p className="text-sm text-slate-500">No blocklist yet.</p>
        ) : (
          <table className="w-full text-left">
            <thead>
              <tr className="text-xs uppercase text-slate-500">
                <th className="py-2 pr-4">Source</th>
                <th className="py-2 pr-4">Names</th>
                <th className="py-2 pr-4">Invalid lines</th>
                <th className="py-2 pr-4">Last fetched</th>
                <th className="py-2 pr-4" />
                <th className="py-2" />
              </tr>
            </thead>
            <tbody>
              {(lists.data ?? []).map((l) => (
                <ListRow key={l.id} list={l} />
              ))}
            </tbody>
          </table>
        )}
        <button
          type="button"
          className="btn-secondary mt-3"
          disabled={refresh.isPending || !lists.data?.some((l) => l.kind === 'url')}
          onClick={() => refresh.mutate()}
        >
          {refresh.isPending ? 'Refreshing…' : 'Refresh URL lists now'}
        </button>
      </div>
      <BlockedQueries />
    </section>
  );
}
