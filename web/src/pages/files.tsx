// Files (ADR 0010): the UI's own browser over the Files service. The owner picks an account (each
// with the space it uses) and sets the quota every account gets; a peer browses its own folder.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { type ApiError, api, call } from '../api/client';
import { ErrorBanner, Field } from '../components/field';
import { Link } from '../router';
import { useMe } from '../session';
import { formatBytes } from './backup-job';
import { FileBrowser } from './file-browser';

export function FilesPage() {
  const me = useMe();
  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-bold">Files</h1>
      {me.data?.role === 'admin' ? <OwnerFiles /> : <PeerFiles />}
    </div>
  );
}

function PeerFiles() {
  return (
    <>
      <p className="text-sm text-slate-600 dark:text-slate-400">
        Your own folder on the cell's Files service: the same files you reach from a phone or a desktop over
        WebDAV (see Your services on My account).
      </p>
      <FileBrowser owner={{ kind: 'peer' }} />
    </>
  );
}

function OwnerFiles() {
  const overview = useQuery({
    queryKey: ['files-overview'],
    queryFn: () => call(api.GET('/api/files')),
    retry: false,
  });
  const [picked, setPicked] = useState('');
  const accounts = overview.data?.accounts ?? [];
  const account = picked || accounts.find((a) => a.has_folder)?.username || '';
  const err = overview.error as ApiError | null;

  if (err?.status === 409 || err?.status === 404)
    return (
      <div className="card space-y-2 text-sm">
        <p>{err.message}</p>
        <Link className="underline" href="/services">
          Open the Service Store
        </Link>
      </div>
    );
  return (
    <>
      <ErrorBanner message={err?.message} />
      {overview.isPending && <p className="text-sm text-slate-500">Loading…</p>}
      {overview.data && (
        <div className="grid gap-4 md:grid-cols-2">
          <section className="card space-y-2" aria-label="Pick an account">
            <Field
              label="Account"
              help="Each peer with a Files account has a folder of its own; add accounts on the Service Store page."
            >
              {(p) => (
                <select {...p} className="input" value={account} onChange={(e) => setPicked(e.target.value)}>
                  {accounts.length === 0 && <option value="">No accounts yet</option>}
                  {accounts.map((a) => (
                    <option key={a.username} value={a.username} disabled={!a.has_folder}>
                      {a.username}
                      {a.used_bytes !== null ? ` — ${formatBytes(a.used_bytes)}` : ' (no folder)'}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          </section>
          <QuotaCard quotaMb={overview.data.quota_mb} />
        </div>
      )}
      {account && <FileBrowser key={account} owner={{ kind: 'admin', account }} />}
    </>
  );
}

function QuotaCard({ quotaMb }: { quotaMb: number }) {
  const qc = useQueryClient();
  const [value, setValue] = useState(String(quotaMb));
  const save = useMutation({
    // The service's own setting: the store keeps it and runs the service's settings hook.
    mutationFn: () =>
      call(
        api.PUT('/api/services/{id}/settings', {
          params: { path: { id: 'files' } },
          body: { values: { quota_mb: Number(value) } },
        }),
      ),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['files-overview'] });
      void qc.invalidateQueries({ queryKey: ['files'] });
    },
  });
  const err = save.error as ApiError | null;
  return (
    <section className="card" aria-label="Files quota">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <Field
          label="Quota per account (MiB)"
          help="How much each account may store, in this browser and over WebDAV alike."
          error={err?.fieldMessage('values.quota_mb') ?? err?.message ?? save.data?.apply_error ?? undefined}
        >
          {(p) => (
            <input
              {...p}
              type="number"
              min={1}
              max={1048576}
              className="input"
              value={value}
              onChange={(e) => setValue(e.target.value)}
            />
          )}
        </Field>
        <div className="flex items-center gap-3">
          <button type="submit" className="btn-primary" disabled={save.isPending || !value}>
            Save quota
          </button>
          {save.isSuccess && save.data.applied && (
            <span role="status" className="text-sm text-green-700 dark:text-green-400">
              Saved.
            </span>
          )}
        </div>
      </form>
    </section>
  );
}
