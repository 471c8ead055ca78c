// The audit trail (filters, paging), anonymous refusals, and a search over the services' structured logs.
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call } from '../api/client';
import { ErrorBanner } from '../components/field';
import { AnonymousRefusals } from './refusals';

const PAGE = 25;

export function LogsPage() {
  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-bold">Logs</h1>
      <AuditTrail />
      <AnonymousRefusals />
      <LogSearch />
    </div>
  );
}

function AuditTrail() {
  const [filters, setFilters] = useState({
    username: '',
    action: '',
    outcome: '',
    since: '',
    until: '',
    q: '',
  });
  const [applied, setApplied] = useState(filters);
  const [offset, setOffset] = useState(0);
  const query: Record<string, string | number> = { limit: PAGE, offset };
  for (const [k, v] of Object.entries(applied)) {
    if (!v) continue;
    query[k] = k === 'since' || k === 'until' ? new Date(v).toISOString() : v;
  }
  const audit = useQuery({
    queryKey: ['audit', query],
    queryFn: () => call(api.GET('/api/logs/audit', { params: { query: query as never } })),
    placeholderData: keepPreviousData,
  });
  const total = audit.data?.total ?? 0;
  const text = (key: keyof typeof filters, label: string, type = 'text') => (
    <label className="text-sm">
      <span className="label">{label}</span>
      <input
        type={type}
        name={`audit-${key}`}
        className="input"
        value={filters[key]}
        onChange={(e) => setFilters({ ...filters, [key]: e.target.value })}
      />
    </label>
  );
  return (
    <section className="card">
      <h2 className="mb-3 font-semibold">Audit trail</h2>
      <form
        className="mb-4 grid gap-3 sm:grid-cols-2 md:grid-cols-3"
        onSubmit={(e) => {
          e.preventDefault();
          setOffset(0);
          setApplied(filters);
        }}
      >
        {text('username', 'User')}
        {text('action', 'Action contains')}
        <label className="text-sm">
          <span className="label">Outcome</span>
          <select
            name="audit-outcome"
            className="input"
            value={filters.outcome}
            onChange={(e) => setFilters({ ...filters, outcome: e.target.value })}
          >
            <option value="">any</option>
            <option value="success">success</option>
            <option value="failure">failure</option>
            <option value="denied">denied</option>
          </select>
        </label>
        {text('since', 'From', 'datetime-local')}
        {text('until', 'To', 'datetime-local')}
        {text('q', 'Text')}
        <div>
          <button type="submit" className="btn-primary">
            Filter
          </button>
        </div>
      </form>
      <ErrorBanner message={audit.error?.message} />
      <div className="overflow-x-auto">
        <table className="w-full text-left text-sm" data-testid="audit-table">
          <thead className="text-xs text-slate-500">
            <tr>
              <th className="py-1 pr-3">Time</th>
              <th className="py-1 pr-3">User</th>
              <th className="py-1 pr-3">Source</th>
              <th className="py-1 pr-3">Action</th>
              <th className="py-1 pr-3">Target</th>
              <th className="py-1 pr-3">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {audit.data?.items.map((r) => (
              <tr key={r.id} className="border-t border-slate-200 dark:border-slate-800">
                <td className="py-1 pr-3 whitespace-nowrap">{new Date(r.ts).toLocaleString()}</td>
                <td className="py-1 pr-3">{r.username ?? '—'}</td>
                <td className="py-1 pr-3 font-mono">{r.source}</td>
                <td className="py-1 pr-3 font-mono">{r.action}</td>
                <td className="py-1 pr-3">{r.target ?? ''}</td>
                <td className="py-1 pr-3">
                  {r.outcome} {r.status ? `(${r.status})` : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="mt-3 flex items-center gap-3 text-sm">
        <button
          type="button"
          className="btn-secondary"
          disabled={offset === 0}
          onClick={() => setOffset(Math.max(0, offset - PAGE))}
        >
          Newer
        </button>
        <span>{total ? `${offset + 1}–${Math.min(offset + PAGE, total)} of ${total}` : 'No entries'}</span>
        <button
          type="button"
          className="btn-secondary"
          disabled={offset + PAGE >= total}
          onClick={() => setOffset(offset + PAGE)}
        >
          Older
        </button>
      </div>
    </section>
  );
}

function LogSearch() {
  const services = useQuery({ queryKey: ['log-levels'], queryFn: () => call(api.GET('/api/logs/levels')) });
  const [form, setForm] = useState({ service: '', level: '', q: '' });
  const [applied, setApplied] = useState(form);
  const query: Record<string, string | number> = { limit: 200 };
  for (const [k, v] of Object.entries(applied)) if (v) query[k] = v;
  const logs = useQuery({
    queryKey: ['logs', query],
    queryFn: () => call(api.GET('/api/logs', { params: { query: query as never } })),
  });
  return (
    <section className="card">
      <h2 className="mb-3 font-semibold">Service logs</h2>
      <form
        className="mb-4 flex flex-wrap items-end gap-3"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(form);
        }}
      >
        <label className="text-sm">
          <span className="label">Service</span>
          <select
            name="log-service"
            className="input"
            value={form.service}
            onChange={(e) => setForm({ ...form, service: e.target.value })}
          >
            <option value="">all</option>
            {services.data?.services.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label className="text-sm">
          <span className="label">Minimum level</span>
          <select
            name="log-level"
            className="input"
            value={form.level}
            onChange={(e) => setForm({ ...form, level: e.target.value })}
          >
            <option value="">any</option>
            {['trace', 'debug', 'info', 'warn', 'error', 'fatal'].map((l) => (
              <option key={l}>{l}</option>
            ))}
          </select>
        </label>
        <label className="min-w-40 flex-1 text-sm">
          <span className="label">Text</span>
          <input
            name="log-q"
            className="input"
            value={form.q}
            onChange={(e) => setForm({ ...form, q: e.target.value })}
          />
        </label>
        <button type="submit" className="btn-primary">
          Search
        </button>
      </form>
      <ErrorBanner message={logs.error?.message} />
      <ul className="max-h-96 overflow-auto font-mono text-xs" data-testid="log-lines">
        {logs.data?.items.map((l, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: log lines have no id; the list is replaced whole
          <li key={`${l.time}-${i}`} className="border-t border-slate-100 py-1 dark:border-slate-800">
            <span className="text-slate-500">{new Date(l.time).toLocaleTimeString()}</span>{' '}
            <span className="font-semibold">{l.service}</span> <span>{l.level}</span> {l.msg}
          </li>
        ))}
      </ul>
    </section>
  );
}
