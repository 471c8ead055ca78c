// The targets of scheduled backups (ADR 0022): each one's destination and last copy (worked or the
// reason it failed, and a backup still waiting to be copied), "Test" (writes, lists and removes a
// probe) and "Remove"; a form adds a directory or an S3 bucket. The secret access key is write-only.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError, api, call } from '../api/client';
import type { paths } from '../api/schema';
import { ErrorBanner, Field } from '../components/field';

type View = paths['/api/config/backups/schedule']['get']['responses'][200]['content']['application/json'];
type Target = View['targets'][number];
type Body = paths['/api/config/backups/targets']['post']['requestBody']['content']['application/json'];

export const SCHEDULE_KEY = ['backup-schedule'];
const when = (iso: string) => new Date(iso).toLocaleString();
const asError = (e: unknown) => (e instanceof ApiError ? e : new ApiError(0, { message: String(e) }));

const where = (t: Target) =>
  t.kind === 'directory' ? t.path : `${t.endpoint}/${t.bucket}${t.prefix ? `/${t.prefix}` : ''}`;

function TargetRow({ t }: { t: Target }) {
  const qc = useQueryClient();
  const [probe, setProbe] = useState<string | undefined>();
  const test = useMutation({
    mutationFn: () =>
      call(api.POST('/api/config/backups/targets/{id}/test', { params: { path: { id: t.id } } })),
    onSuccess: (r) =>
      setProbe(r.ok ? 'Test passed: a probe was written, listed and removed.' : `Test failed: ${r.error}`),
    onError: (e) => setProbe(asError(e).message),
  });
  const remove = useMutation({
    mutationFn: () =>
      call(api.DELETE('/api/config/backups/targets/{id}', { params: { path: { id: t.id } } })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: SCHEDULE_KEY }),
    onError: (e) => setProbe(asError(e).message),
  });
  const r = t.last_result;
  return (
    <li className="py-2" data-testid="backup-target">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div>
          <span className="mr-2 rounded bg-slate-100 px-1.5 text-xs uppercase dark:bg-slate-800">
            {t.kind}
          </span>
          <span className="font-mono text-sm break-all">{where(t)}</span>
          {t.kind === 's3' && !t.secret_set && (
            <span className="ml-2 text-xs text-red-700 dark:text-red-400">no secret key stored</span>
          )}
        </div>
        <div className="flex gap-2">
          <button
            type="button"
            className="btn-secondary"
            disabled={test.isPending}
            onClick={() => test.mutate()}
          >
            {test.isPending ? 'Testing…' : 'Test'}
          </button>
          <button
            type="button"
            className="btn-secondary"
            disabled={remove.isPending}
            onClick={() => {
              if (window.confirm('Remove this target? The copies already there stay.')) remove.mutate();
            }}
          >
            Remove
          </button>
        </div>
      </div>
      <p className="mt-1 text-sm" role="status">
        {!r && <span className="text-slate-500">No copy yet.</span>}
        {r?.ok && (
          <span>
            Last copy {when(r.at)}: <span className="font-mono">{r.backup_id}</span>
          </span>
        )}
        {r && !r.ok && (
          <span className="text-red-700 dark:text-red-400">
            Copy failed {when(r.at)}: {r.error}
          </span>
        )}
        {t.pending_backup_id && (
          <span className="block text-slate-500">
            Waiting to be copied (retried hourly): <span className="font-mono">{t.pending_backup_id}</span>
          </span>
        )}
      </p>
      {probe && <p className="mt-1 text-sm">{probe}</p>}
    </li>
  );
}

const EMPTY = {
  path: '',
  endpoint: '',
  region: '',
  bucket: '',
  prefix: '',
  access_key_id: '',
  secret_access_key: '',
};

function AddTarget({ canAdd }: { canAdd: boolean }) {
  const qc = useQueryClient();
  const [kind, setKind] = useState<Body['kind']>('directory');
  const [form, setForm] = useState(EMPTY);
  const [allowPrivate, setAllowPrivate] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const add = useMutation({
    mutationFn: () => {
      const s = (v: string) => v.trim();
      const body: Body =
        kind === 'directory'
          ? { kind, path: s(form.path) }
          : {
              kind,
              endpoint: s(form.endpoint),
              region: s(form.region),
              bucket: s(form.bucket),
              ...(s(form.prefix) ? { prefix: s(form.prefix) } : {}),
              access_key_id: s(form.access_key_id),
              secret_access_key: form.secret_access_key,
              ...(allowPrivate ? { allow_private_endpoint: true } : {}),
            };
      return call(api.POST('/api/config/backups/targets', { body }));
    },
    onSuccess: () => {
      setError(undefined);
      setForm(EMPTY);
      setAllowPrivate(false);
      void qc.invalidateQueries({ queryKey: SCHEDULE_KEY });
    },
    onError: (e) => setError(asError(e)),
  });
  const text = (
    key: keyof typeof EMPTY,
    label: string,
    help?: string,
    extra: Record<string, string> = {},
  ) => (
    <Field label={label} help={help} error={error?.fieldMessage(key)}>
      {(p) => (
        <input
          {...p}
          {...extra}
          name={key}
          className="input font-mono"
          value={form[key]}
          onChange={(e) => setForm({ ...form, [key]: e.target.value })}
        />
      )}
    </Field>
  );
  return (
    <form
      aria-label="Add a backup target"
      className="mt-4 border-t border-slate-200 pt-4 dark:border-slate-700"
      onSubmit={(e) => {
        e.preventDefault();
        add.mutate();
      }}
    >
      <h3 className="mb-2 font-medium">Add a target</h3>
      {!canAdd && (
        <p className="mb-3 text-sm text-slate-500">
          Set a recipient or a passphrase first: copies leave encrypted.
        </p>
      )}
      <ErrorBanner message={error && error.fields.length === 0 ? error.message : undefined} />
      <Field label="Kind" error={error?.fieldMessage('kind')}>
        {(p) => (
          <select
            {...p}
            name="kind"
            className="input"
            value={kind}
            onChange={(e) => setKind(e.target.value as Body['kind'])}
          >
            <option value="directory">Directory (a mounted disk or share)</option>
            <option value="s3">S3 bucket</option>
          </select>
        )}
      </Field>
      {kind === 'directory' ? (
        text(
          'path',
          'Directory',
          'An existing directory under /mnt/, /media/ or /srv/, e.g. /mnt/usb/pic (not a symlink). PIC does not change its owner: give it to cell-api first (on the host: chown 1000 /mnt/usb/pic). Under Docker, run ./pic up on the host after adding it: that mounts it into cell-api.',
        )
      ) : (
        <div className="grid gap-x-4 md:grid-cols-2">
          {text('endpoint', 'Endpoint', 'https://s3.eu-central-1.amazonaws.com, or your provider’s')}
          {text('region', 'Region', 'e.g. eu-central-1 (auto for R2)')}
          {text('bucket', 'Bucket')}
          {text('prefix', 'Prefix (optional)', 'A folder inside the bucket, e.g. pic/home')}
          {text('access_key_id', 'Access key id')}
          {text('secret_access_key', 'Secret access key', 'Stored on the cell, never shown again.', {
            type: 'password',
            autoComplete: 'new-password',
          })}
          <div className="mb-3 md:col-span-2">
            <label className="flex items-center gap-2 text-sm">
              <input
                type="checkbox"
                name="allow_private_endpoint"
                checked={allowPrivate}
                onChange={(e) => setAllowPrivate(e.target.checked)}
              />
              Allow an endpoint on this machine or the cell's own networks
            </label>
            <p className="mt-1 text-sm text-slate-500">
              Off by default: an endpoint on loopback, a link-local address (where clouds hand out
              credentials) or the cell's own networks is refused, as a copy there is not off-host. Tick it
              only for an S3 server you run there on purpose.
            </p>
            {error?.fieldMessage('allow_private_endpoint') && (
              <p className="mt-1 text-sm text-red-700 dark:text-red-400">
                {error.fieldMessage('allow_private_endpoint')}
              </p>
            )}
          </div>
        </div>
      )}
      <button type="submit" className="btn-primary" disabled={!canAdd || add.isPending}>
        Add target
      </button>
    </form>
  );
}

export function BackupTargets({ view }: { view: View }) {
  const canAdd = view.encryption.recipient !== null || view.encryption.passphrase_set;
  return (
    <div className="mt-6">
      <h3 className="mb-1 font-medium">Targets</h3>
      <p className="mb-2 text-sm text-slate-500">
        Every scheduled backup is copied to each target; old copies there follow the same retention.
      </p>
      {view.targets.length === 0 ? (
        <p className="text-sm text-slate-500">No target: scheduled backups stay on this cell only.</p>
      ) : (
        <ul className="divide-y divide-slate-200 dark:divide-slate-700">
          {view.targets.map((t) => (
            <TargetRow key={t.id} t={t} />
          ))}
        </ul>
      )}
      <AddTarget canAdd={canAdd} />
    </div>
  );
}
