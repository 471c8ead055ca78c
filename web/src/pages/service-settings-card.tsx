// A store service's settings, built from its manifest's fields (GET/PUT /api/services/<id>/settings):
// text, host, port, integer (with its bounds), boolean, secret (write-only: "set" or "not set", a new
// value replaces it, Clear removes it) and aliases (an editable table of alias → account). A refusal
// names `values.<key>`: the message shows next to that field. A save the service did not take
// (applied: false) says so with the service's own reason; the values are kept.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import { ApiError, api, call } from '../api/client';
import {
  type MailAlias,
  type SettingField,
  type SettingsView,
  type SettingValue,
  serviceHooks,
} from '../api/service-hooks';
import { ErrorBanner, Field } from '../components/field';

/** A field's draft as the form holds it: text boxes keep strings until the save. */
type Draft = Record<string, string | boolean | MailAlias[]>;

function draftOf(view: SettingsView): Draft {
  const d: Draft = {};
  for (const f of view.fields) {
    const v = view.values[f.key] ?? null;
    if (f.type === 'secret') continue;
    if (f.type === 'boolean') d[f.key] = typeof v === 'boolean' ? v : (f.default ?? false);
    else if (f.type === 'aliases') d[f.key] = Array.isArray(v) ? v.map((a) => ({ ...a })) : [];
    else d[f.key] = v === null || typeof v === 'object' ? '' : String(v);
  }
  return d;
}

/** The PUT's values: every non-secret field (empty = unset), and each secret typed or cleared. */
function valuesOf(fields: SettingField[], draft: Draft, secrets: Record<string, string | null>) {
  const out: Record<string, SettingValue> = {};
  for (const f of fields) {
    if (f.type === 'secret') {
      if (f.key in secrets) out[f.key] = secrets[f.key] ?? null;
      continue;
    }
    const v = draft[f.key];
    if (f.type === 'boolean' || f.type === 'aliases') out[f.key] = v ?? null;
    else if (f.type === 'port' || f.type === 'integer') {
      const s = String(v ?? '').trim();
      out[f.key] = s === '' ? null : /^-?\d+$/.test(s) ? Number(s) : s;
    } else out[f.key] = String(v ?? '').trim() === '' ? null : String(v);
  }
  return out;
}

const asError = (e: unknown) => (e instanceof ApiError ? e : new ApiError(0, { message: String(e) }));

export function ServiceSettingsCard({ id, hasAccounts }: { id: string; hasAccounts: boolean }) {
  const qc = useQueryClient();
  const key = ['service-settings', id];
  const view = useQuery({ queryKey: key, queryFn: () => serviceHooks.settings(id), retry: false });
  const accounts = useQuery({
    queryKey: ['service-accounts', id],
    queryFn: () => call(api.GET('/api/services/{id}/accounts', { params: { path: { id } } })),
    enabled: hasAccounts,
    retry: false,
  });
  const [draft, setDraft] = useState<Draft>({});
  const [secrets, setSecrets] = useState<Record<string, string | null>>({});
  const [error, setError] = useState<ApiError | undefined>();
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (view.data) setDraft(draftOf(view.data));
  }, [view.data]);
  const save = useMutation({
    mutationFn: () => serviceHooks.putSettings(id, valuesOf(view.data?.fields ?? [], draft, secrets)),
    onMutate: () => {
      setError(undefined);
      setSaved(false);
    },
    onSuccess: (next) => {
      qc.setQueryData(key, next);
      setSecrets({});
      setSaved(true);
    },
    onError: (e) => setError(asError(e)),
  });

  // No settings (409), or the service is gone (404): nothing to show here.
  if (view.error instanceof ApiError && (view.error.status === 409 || view.error.status === 404)) return null;
  if (!view.data) return view.error ? <ErrorBanner message={view.error.message} /> : null;
  const v = view.data;
  const fieldError = (k: string) => error?.fieldMessage(`values.${k}`);
  const fieldless = error && !v.fields.some((f) => fieldError(f.key));
  const set = (k: string, value: Draft[string]) => setDraft((d) => ({ ...d, [k]: value }));
  const usernames = accounts.data?.accounts.map((a) => a.username) ?? [];

  return (
    <form
      // The API's checks are the ones that count, and its messages show next to each field.
      noValidate
      className="card"
      aria-label="Settings"
      data-testid="service-settings"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <h2 className="mb-3 font-semibold">Settings</h2>
      <ErrorBanner message={fieldless ? error.message : undefined} />
      {!v.applied && (
        <div
          role="alert"
          data-testid="settings-not-applied"
          className="mb-4 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200"
        >
          The settings are saved, but the service did not take them
          {v.apply_error ? `: ${v.apply_error.replace(/\.?$/, '.')}` : '.'} They are applied again at its next
          start.
        </div>
      )}
      {saved && v.applied && (
        <p role="status" className="mb-4 rounded-md bg-green-50 p-2 text-sm dark:bg-green-950">
          Saved and applied.
        </p>
      )}
      {v.fields.map((f) =>
        f.type === 'aliases' ? (
          <AliasesField
            key={f.key}
            field={f}
            aliases={(draft[f.key] as MailAlias[] | undefined) ?? []}
            usernames={usernames}
            error={fieldError(f.key)}
            onChange={(a) => set(f.key, a)}
          />
        ) : f.type === 'secret' ? (
          <SecretField
            key={f.key}
            field={f}
            isSet={v.secrets_set[f.key] === true}
            pending={secrets[f.key]}
            error={fieldError(f.key)}
            onChange={(s) =>
              setSecrets((cur) => {
                const next = { ...cur };
                if (s === undefined) delete next[f.key];
                else next[f.key] = s;
                return next;
              })
            }
          />
        ) : f.type === 'boolean' ? (
          <div key={f.key} className="mb-4">
            <label className="flex items-center gap-2 text-sm font-medium">
              <input
                type="checkbox"
                name={f.key}
                checked={draft[f.key] === true}
                onChange={(e) => set(f.key, e.target.checked)}
              />
              {f.label}
            </label>
            {f.help && <p className="mt-1 text-xs text-slate-500">{f.help}</p>}
            {fieldError(f.key) && (
              <p className="field-error" role="alert">
                {fieldError(f.key)}
              </p>
            )}
          </div>
        ) : (
          <Field key={f.key} label={f.label} help={helpOf(f)} error={fieldError(f.key)}>
            {(p) => (
              <input
                {...p}
                name={f.key}
                className="input"
                inputMode={f.type === 'port' || f.type === 'integer' ? 'numeric' : undefined}
                type={f.type === 'port' || f.type === 'integer' ? 'number' : 'text'}
                min={f.type === 'integer' ? f.min : f.type === 'port' ? 1 : undefined}
                max={f.type === 'integer' ? f.max : f.type === 'port' ? 65535 : undefined}
                maxLength={f.type === 'text' ? (f.max ?? 512) : f.type === 'host' ? 253 : undefined}
                placeholder={
                  (f.type === 'port' || f.type === 'integer') && f.default !== undefined
                    ? String(f.default)
                    : f.type === 'host'
                      ? 'smtp.example.org'
                      : undefined
                }
                value={String(draft[f.key] ?? '')}
                onChange={(e) => set(f.key, e.target.value)}
              />
            )}
          </Field>
        ),
      )}
      <button type="submit" className="btn-primary" disabled={save.isPending}>
        {save.isPending ? 'Saving…' : 'Save settings'}
      </button>
    </form>
  );
}

function helpOf(f: SettingField): string | undefined {
  const bounds =
    f.type === 'integer'
      ? `From ${f.min} to ${f.max}${f.default !== undefined ? `; ${f.default} when empty` : ''}.`
      : f.type === 'port' && f.default !== undefined
        ? `${f.default} when empty.`
        : undefined;
  return [f.help, bounds].filter(Boolean).join(' ') || undefined;
}

/** Write-only: whether it is set; a new value replaces it on save; Clear removes it on save. */
function SecretField(props: {
  field: SettingField;
  isSet: boolean;
  /** undefined: unchanged; a string: the new value; null: to be cleared. */
  pending: string | null | undefined;
  error: string | undefined;
  onChange: (s: string | null | undefined) => void;
}) {
  const { field: f, isSet, pending } = props;
  const state = pending === null ? 'will be cleared on save' : isSet ? 'set' : 'not set';
  return (
    <Field
      label={f.label}
      help={
        <>
          <span data-testid={`secret-state-${f.key}`}>{state}</span>
          {' · '}
          {f.help ?? 'Never shown again once saved: type a new value to replace it.'}
        </>
      }
      error={props.error}
    >
      {(p) => (
        <div className="flex gap-2">
          <input
            {...p}
            name={f.key}
            type="password"
            autoComplete="new-password"
            className="input"
            placeholder={isSet ? '•••••••• (unchanged)' : ''}
            value={typeof pending === 'string' ? pending : ''}
            onChange={(e) => props.onChange(e.target.value === '' ? undefined : e.target.value)}
          />
          {(isSet || pending !== undefined) && (
            <button
              type="button"
              className="btn-secondary"
              aria-label={`Clear ${f.label}`}
              onClick={() => props.onChange(pending === null ? undefined : null)}
            >
              {pending === null ? 'Keep' : 'Clear'}
            </button>
          )}
        </div>
      )}
    </Field>
  );
}

function AliasesField(props: {
  field: SettingField;
  aliases: MailAlias[];
  usernames: string[];
  error: string | undefined;
  onChange: (a: MailAlias[]) => void;
}) {
  const { field: f, aliases, usernames } = props;
  const id = useId();
  const update = (i: number, patch: Partial<MailAlias>) =>
    props.onChange(aliases.map((a, j) => (j === i ? { ...a, ...patch } : a)));
  return (
    <fieldset className="mb-4" aria-describedby={props.error ? `${id}-error` : undefined}>
      <legend className="label">{f.label}</legend>
      {f.help && <p className="mb-2 text-xs text-slate-500">{f.help}</p>}
      <table className="w-full text-sm" data-testid={`aliases-${f.key}`}>
        <thead>
          <tr className="text-left text-xs text-slate-500">
            <th className="pb-1 font-normal">Alias</th>
            <th className="pb-1 font-normal">Delivered to</th>
            <th className="pb-1" />
          </tr>
        </thead>
        <tbody>
          {aliases.map((a, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: rows are edited in place; the index is their identity
            <tr key={i}>
              <td className="pr-2 pb-1">
                <input
                  className="input"
                  aria-label={`Alias ${i + 1}`}
                  value={a.alias}
                  onChange={(e) => update(i, { alias: e.target.value.trim().toLowerCase() })}
                />
              </td>
              <td className="pr-2 pb-1">
                {usernames.length > 0 ? (
                  <select
                    className="input"
                    aria-label={`Account for alias ${i + 1}`}
                    value={a.to}
                    onChange={(e) => update(i, { to: e.target.value })}
                  >
                    <option value="">choose…</option>
                    {[...new Set([...usernames, ...(a.to ? [a.to] : [])])].map((u) => (
                      <option key={u} value={u}>
                        {u}
                      </option>
                    ))}
                  </select>
                ) : (
                  <input
                    className="input"
                    aria-label={`Account for alias ${i + 1}`}
                    value={a.to}
                    onChange={(e) => update(i, { to: e.target.value })}
                  />
                )}
              </td>
              <td className="pb-1">
                <button
                  type="button"
                  className="btn-secondary px-2 py-1 text-xs"
                  aria-label={`Remove alias ${i + 1}`}
                  onClick={() => props.onChange(aliases.filter((_, j) => j !== i))}
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
          {aliases.length === 0 && (
            <tr>
              <td colSpan={3} className="pb-1 text-slate-500">
                No aliases.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <button
        type="button"
        className="btn-secondary mt-2 px-2 py-1 text-xs"
        onClick={() => props.onChange([...aliases, { alias: '', to: '' }])}
      >
        Add alias
      </button>
      {props.error && (
        <p id={`${id}-error`} className="field-error" role="alert">
          {props.error}
        </p>
      )}
    </fieldset>
  );
}
