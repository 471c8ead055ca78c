// Backups → Schedule (ADR 0022): daily at an hour (UTC), retention (days and weeks kept), how the
// archives are encrypted (an age recipient, or a passphrase stored on the cell: write-only, never
// pre-filled, kept when left empty), the last and next run, and the targets each backup is copied to.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { ApiError, api, call } from '../api/client';
import type { paths } from '../api/schema';
import { ErrorBanner, Field } from '../components/field';
import { BackupTargets, SCHEDULE_KEY } from './backup-targets';

type Body = paths['/api/config/backups/schedule']['put']['requestBody']['content']['application/json'];
type Mode = 'recipient' | 'passphrase' | 'none';

interface Form {
  enabled: boolean;
  hour: number;
  keep_daily: number;
  keep_weekly: number;
  mode: Mode;
  recipient: string;
  passphrase: string;
}

const HOURS = Array.from({ length: 24 }, (_, h) => h);
const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '—');
const hourLabel = (h: number) => {
  const local = new Date(Date.UTC(2026, 0, 1, h)).toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
  });
  return `${String(h).padStart(2, '0')}:00 UTC (${local} here)`;
};

export function BackupScheduleCard() {
  const qc = useQueryClient();
  const view = useQuery({
    queryKey: SCHEDULE_KEY,
    queryFn: () => call(api.GET('/api/config/backups/schedule')),
  });
  const [form, setForm] = useState<Form>({
    enabled: false,
    hour: 3,
    keep_daily: 7,
    keep_weekly: 4,
    mode: 'passphrase',
    recipient: '',
    passphrase: '',
  });
  const [error, setError] = useState<ApiError | undefined>();
  const [note, setNote] = useState<string | undefined>();
  const v = view.data;
  useEffect(() => {
    if (!v) return;
    setForm((f) => ({
      ...f,
      ...v.schedule,
      mode: v.encryption.recipient ? 'recipient' : v.encryption.passphrase_set ? 'passphrase' : f.mode,
      recipient: v.encryption.recipient ?? '',
      passphrase: '', // never pre-filled
    }));
  }, [v]);
  const save = useMutation({
    mutationFn: () => {
      const encryption: Partial<Body> =
        form.mode === 'recipient'
          ? { recipient: form.recipient.trim() }
          : form.mode === 'passphrase'
            ? form.passphrase
              ? { passphrase: form.passphrase }
              : { recipient: null } // keep the stored passphrase, drop a recipient
            : { recipient: null, passphrase: null };
      const body: Body = {
        enabled: form.enabled,
        hour: form.hour,
        keep_daily: form.keep_daily,
        keep_weekly: form.keep_weekly,
        ...encryption,
      };
      return call(api.PUT('/api/config/backups/schedule', { body }));
    },
    onSuccess: (r) => {
      setError(undefined);
      setForm((f) => ({ ...f, passphrase: '' }));
      qc.setQueryData(SCHEDULE_KEY, r);
      setNote(r.next_run_at ? `Saved. Next backup: ${when(r.next_run_at)}.` : 'Saved. The schedule is off.');
    },
    onError: (e) => {
      setNote(undefined);
      setError(e instanceof ApiError ? e : new ApiError(0, { message: String(e) }));
    },
  });
  const fe = (f: string) => error?.fieldMessage(f);
  const count = (key: 'keep_daily' | 'keep_weekly', label: string, max: number, help: string) => (
    <Field label={label} help={help} error={fe(key)}>
      {(p) => (
        <input
          {...p}
          name={key}
          type="number"
          min={0}
          max={max}
          className="input"
          value={form[key]}
          onChange={(e) => setForm({ ...form, [key]: Number(e.target.value) })}
        />
      )}
    </Field>
  );
  return (
    <section className="card" aria-labelledby="backup-schedule-heading" data-testid="backup-schedule">
      <h2 id="backup-schedule-heading" className="mb-3 font-semibold">
        Scheduled backups
      </h2>
      {v && !v.available && (
        <p className="mb-3 text-sm text-amber-700 dark:text-amber-400">
          This cell has no backup engine running: the schedule is kept but cannot run.
        </p>
      )}
      {v && (
        <dl className="mb-4 grid gap-1 text-sm md:grid-cols-2" data-testid="backup-schedule-status">
          <div>
            <dt className="inline text-slate-500">Next backup: </dt>
            <dd className="inline">{v.next_run_at ? when(v.next_run_at) : 'off'}</dd>
          </div>
          <div>
            <dt className="inline text-slate-500">Last backup: </dt>
            <dd className="inline">
              {v.last_run
                ? `${when(v.last_run.at)}${v.last_run.backup_id ? ` (${v.last_run.backup_id})` : ''}`
                : '—'}
            </dd>
          </div>
          {v.last_run?.error && (
            <div className="md:col-span-2 text-red-700 dark:text-red-400" role="status">
              {v.last_run.error}
            </div>
          )}
        </dl>
      )}
      <ErrorBanner message={error && error.fields.length === 0 ? error.message : undefined} />
      {note && (
        <p role="status" className="mb-3 text-sm">
          {note}
        </p>
      )}
      <form
        aria-label="Backup schedule"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <label className="mb-4 flex items-center gap-2">
          <input
            type="checkbox"
            name="enabled"
            checked={form.enabled}
            onChange={(e) => setForm({ ...form, enabled: e.target.checked })}
          />
          Back up every day
        </label>
        <div className="grid gap-x-4 md:grid-cols-3">
          <Field label="At" error={fe('hour')}>
            {(p) => (
              <select
                {...p}
                name="hour"
                className="input"
                value={form.hour}
                onChange={(e) => setForm({ ...form, hour: Number(e.target.value) })}
              >
                {HOURS.map((h) => (
                  <option key={h} value={h}>
                    {hourLabel(h)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {count('keep_daily', 'Days kept', 60, 'The newest backup of each of the last N days')}
          {count('keep_weekly', 'Weeks kept', 52, 'The newest backup of each of the last N weeks')}
        </div>
        <fieldset className="mb-4">
          <legend className="label">Encryption</legend>
          {(['recipient', 'passphrase', 'none'] as const).map((m) => (
            <label key={m} className="mr-4 inline-flex items-center gap-1 text-sm">
              <input
                type="radio"
                name="mode"
                value={m}
                checked={form.mode === m}
                onChange={() => setForm({ ...form, mode: m })}
              />
              {m === 'recipient' ? 'age recipient' : m === 'passphrase' ? 'Passphrase' : 'None (no targets)'}
            </label>
          ))}
        </fieldset>
        {form.mode === 'recipient' && (
          <Field
            label="age recipient"
            help="age1…: only the holder of the matching age identity can restore. Keep that key off this cell."
            error={fe('recipient')}
          >
            {(p) => (
              <input
                {...p}
                name="recipient"
                className="input font-mono"
                value={form.recipient}
                onChange={(e) => setForm({ ...form, recipient: e.target.value })}
              />
            )}
          </Field>
        )}
        {form.mode === 'passphrase' && (
          <Field
            label="Passphrase"
            help={
              <>
                At least 12 characters, stored on the cell to encrypt each backup.{' '}
                <strong>A lost passphrase means a lost backup</strong>: nothing can open it without it. Keep a
                copy away from the cell.
                {v?.encryption.passphrase_set ? ' Leave empty to keep the stored one.' : ''}
              </>
            }
            error={fe('passphrase')}
          >
            {(p) => (
              <input
                {...p}
                name="passphrase"
                type="password"
                autoComplete="new-password"
                className="input"
                value={form.passphrase}
                onChange={(e) => setForm({ ...form, passphrase: e.target.value })}
              />
            )}
          </Field>
        )}
        <button type="submit" className="btn-primary" disabled={save.isPending}>
          Save schedule
        </button>
      </form>
      {v && <BackupTargets view={v} />}
    </section>
  );
}
