// The setup wizard's last step, once the admin is signed in: where every exported peer config sends
// devices, what may keep them from reaching it, and a field to change it.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError, api, call } from '../api/client';
import { ErrorBanner, Field } from '../components/field';
import { ENDPOINT_SOURCE, EndpointWarnings } from './wireguard';

/**
 * The endpoint written into every exported peer config, as the cell will use it: what `pic up` found
 * (or the owner's setting), what may keep devices from reaching it, and a field to change it. Saving
 * sets network.endpoint_host, the same setting as Settings → Network; empty goes back to automatic.
 */
export function EndpointStep({ onDone }: { onDone: () => void }) {
  const qc = useQueryClient();
  const status = useQuery({
    queryKey: ['wg-status'],
    queryFn: () => call(api.GET('/api/wireguard/status')),
  });
  const [host, setHost] = useState<string | undefined>();
  const save = useMutation({
    mutationFn: (endpoint_host: string) =>
      call(api.PUT('/api/config', { body: { network: { endpoint_host } } })),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ['wg-status'] });
      await qc.invalidateQueries({ queryKey: ['config'] });
    },
  });
  const s = status.data;
  const current = s && s.endpoint_source === 'config' ? s.endpoint.replace(/:\d+$/, '') : '';
  const value = host ?? current;
  const changed = s !== undefined && value.trim() !== current;
  const err = save.error instanceof ApiError ? save.error : undefined;
  return (
    <form
      className="card"
      onSubmit={(e) => {
        e.preventDefault();
        if (changed) save.mutate(value.trim(), { onSuccess: () => setHost(undefined) });
        else onDone();
      }}
      noValidate
    >
      <ErrorBanner message={status.error?.message ?? (err && !err.fields.length ? err.message : undefined)} />
      <p className="mb-3 text-sm">
        Setup is complete. Every device you add on the Peers page gets a config (and a QR code) that dials
        this endpoint:
      </p>
      {s ? (
        <>
          <p className="mb-3 text-lg">
            <span className="font-mono" data-testid="wizard-endpoint">
              {s.endpoint}
            </span>{' '}
            <span className="text-xs text-slate-500">({ENDPOINT_SOURCE[s.endpoint_source]})</span>
          </p>
          <div className="mb-4">
            <EndpointWarnings warnings={s.endpoint_warnings} />
          </div>
        </>
      ) : (
        <p className="mb-3 text-sm text-slate-500">Loading…</p>
      )}
      <Field
        label="Endpoint devices dial"
        help={
          <>
            A name or address of this host that your devices can reach, such as your router’s public name when
            it forwards UDP port {s?.endpoint.split(':').at(-1) ?? ''} here. Leave it empty to use what{' '}
            <code>./pic up</code> found. You can change it later in Settings → Network.
          </>
        }
        error={err?.fieldMessage('network.endpoint_host')}
      >
        {(p) => (
          <input
            {...p}
            name="endpoint_host"
            className="input font-mono"
            placeholder={s && s.endpoint_source !== 'config' ? s.endpoint.replace(/:\d+$/, '') : ''}
            autoComplete="off"
            spellCheck={false}
            value={value}
            onChange={(e) => setHost(e.target.value)}
          />
        )}
      </Field>
      <div className="mt-6 flex justify-end gap-3">
        <button type="submit" className="btn-primary" disabled={save.isPending || !s}>
          {changed ? (save.isPending ? 'Saving…' : 'Save endpoint') : 'Continue to the dashboard'}
        </button>
      </div>
    </form>
  );
}
