// The DNS card of Network Services: the cell's records. The zone's own names (the cell, its services, its peers) are made
// by the cell; here the owner adds and removes records of their own. Each refusal is shown next to
// the field it names (a duplicate on the value, a clash with a peer's name on the name...).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError, api, call } from '../api/client';
import { ErrorBanner, Field } from '../components/field';

const TYPES = ['A', 'AAAA', 'CNAME', 'TXT', 'MX', 'SRV'] as const;
type RecordType = (typeof TYPES)[number];

const VALUE_HELP: Record<RecordType, string> = {
  A: 'An IPv4 address, e.g. 192.168.1.20',
  AAAA: 'An IPv6 address, e.g. 2001:db8::20',
  CNAME: 'Another name, e.g. nas.example.org (alone at its name)',
  TXT: 'Text without quotes or backslashes, e.g. v=spf1 mx -all',
  MX: 'Preference and mail host, e.g. 10 mail.example.org',
  SRV: 'Priority, weight, port and target, e.g. 10 5 5060 sip.example.org',
};

const asError = (e: unknown) => (e instanceof ApiError ? e : new ApiError(0, { message: String(e) }));

function AddRecord({ zone }: { zone: string | undefined }) {
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [type, setType] = useState<RecordType>('A');
  const [value, setValue] = useState('');
  const [ttl, setTtl] = useState('');
  const [error, setError] = useState<ApiError | undefined>();
  const add = useMutation({
    mutationFn: () =>
      call(
        api.POST('/api/dns/records', {
          body: { name, type, value, ...(ttl.trim() ? { ttl: Number(ttl) } : {}) },
        }),
      ),
    onSuccess: () => {
      setError(undefined);
      setName('');
      setValue('');
      setTtl('');
      void qc.invalidateQueries({ queryKey: ['dns-records'] });
    },
    onError: (e) => setError(asError(e)),
  });
  const fieldless = error && !['name', 'type', 'value', 'ttl'].some((f) => error.fieldMessage(f));
  return (
    <form
      className="card"
      aria-label="Add a DNS record"
      onSubmit={(e) => {
        e.preventDefault();
        add.mutate();
      }}
    >
      <h2 className="mb-3 font-semibold">Add a record</h2>
      <ErrorBanner message={fieldless ? error.message : undefined} />
      <div className="grid gap-x-4 md:grid-cols-4">
        <Field
          label="Name"
          help={`Relative to ${zone ?? 'the zone'}: www, _sip._tcp, or @ for the zone itself.`}
          error={error?.fieldMessage('name')}
        >
          {(p) => (
            <input
              {...p}
              name="name"
              className="input"
              value={name}
              onChange={(e) => setName(e.target.value)}
              required
            />
          )}
        </Field>
        <Field label="Type" error={error?.fieldMessage('type')}>
          {(p) => (
            <select
              {...p}
              name="type"
              className="input"
              value={type}
              onChange={(e) => setType(e.target.value as RecordType)}
            >
              {TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Value" help={VALUE_HELP[type]} error={error?.fieldMessage('value')}>
          {(p) => (
            <input
              {...p}
              name="value"
              className="input font-mono"
              value={value}
              onChange={(e) => setValue(e.target.value)}
              required
            />
          )}
        </Field>
        <Field label="TTL (seconds)" help="Default 3600." error={error?.fieldMessage('ttl')}>
          {(p) => (
            <input
              {...p}
              name="ttl"
              className="input"
              inputMode="numeric"
              value={ttl}
              onChange={(e) => setTtl(e.target.value)}
            />
          )}
        </Field>
      </div>
      <button type="submit" className="btn-primary" disabled={add.isPending}>
        Add record
      </button>
    </form>
  );
}

type DnsRecord = { id: number; name: string; type: RecordType; value: string; ttl: number };

function RecordRow({ record, zone }: { record: DnsRecord; zone: string | undefined }) {
  const qc = useQueryClient();
  const [error, setError] = useState<string | undefined>();
  const remove = useMutation({
    mutationFn: () => call(api.DELETE('/api/dns/records/{id}', { params: { path: { id: record.id } } })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['dns-records'] }),
    onError: (e) => setError(asError(e).message),
  });
  const fqdn = record.name === '@' ? zone : zone ? `${record.name}.${zone}` : record.name;
  return (
    <tr className="border-b border-slate-200 dark:border-slate-800">
      <td className="py-2 pr-4 font-mono text-sm" title={fqdn}>
        {record.name}
      </td>
      <td className="py-2 pr-4 text-sm">{record.type}</td>
      <td className="break-all py-2 pr-4 font-mono text-sm">{record.value}</td>
      <td className="py-2 pr-4 text-sm">{record.ttl}</td>
      <td className="py-2 text-right">
        <button
          type="button"
          className="btn-secondary text-red-700 dark:text-red-400"
          aria-label={`Delete ${record.type} record ${record.name}`}
          onClick={() => {
            if (window.confirm(`Delete the ${record.type} record of ${fqdn}?`)) remove.mutate();
          }}
        >
          Delete
        </button>
        <ErrorBanner message={error} />
      </td>
    </tr>
  );
}

export function DnsRecordsCard() {
  const records = useQuery({
    queryKey: ['dns-records'],
    queryFn: () => call(api.GET('/api/dns/records')),
  });
  const config = useQuery({ queryKey: ['config'], queryFn: () => call(api.GET('/api/config')) });
  const zone = config.data?.identity.domain;
  return (
    <section aria-labelledby="dns-heading" className="space-y-4">
      <h2 id="dns-heading" className="text-xl font-semibold">
        DNS {zone ? <span className="font-mono text-base text-slate-500">{zone}</span> : null}
      </h2>
      <p className="text-sm text-slate-600 dark:text-slate-400">
        The cell answers for its own name, its services and its peers; a peer gets no answer for a service it
        is not granted. Your records below are served beside them, live.
      </p>
      <AddRecord zone={zone} />
      <div className="card overflow-x-auto">
        <ErrorBanner message={records.error ? asError(records.error).message : undefined} />
        {records.data && records.data.length === 0 ? (
          <p className="text-sm text-slate-500">No records of your own yet.</p>
        ) : (
          <table className="w-full text-left">
            <thead>
              <tr className="text-xs uppercase text-slate-500">
                <th className="py-2 pr-4">Name</th>
                <th className="py-2 pr-4">Type</th>
                <th className="py-2 pr-4">Value</th>
                <th className="py-2 pr-4">TTL</th>
                <th className="py-2" />
              </tr>
            </thead>
            <tbody>
              {(records.data ?? []).map((r) => (
                <RecordRow key={r.id} record={r} zone={zone} />
              ))}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}
