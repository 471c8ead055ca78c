// A service's per-peer accounts, inside its Service Store card: the peers that have one, add one for
// a peer (a password of the owner's or a generated one, shown once here), remove one.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call } from '../api/client';
import { ErrorBanner } from '../components/field';

export function ServiceAccountsPanel({ id, name }: { id: string; name: string }) {
  const qc = useQueryClient();
  const key = ['service-accounts', id];
  const accounts = useQuery({
    queryKey: key,
    queryFn: () => call(api.GET('/api/services/{id}/accounts', { params: { path: { id } } })),
    retry: false,
  });
  const peers = useQuery({ queryKey: ['peers'], queryFn: () => call(api.GET('/api/peers')), retry: false });
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [shown, setShown] = useState<{ username: string; password: string } | undefined>();
  const add = useMutation({
    mutationFn: () =>
      call(
        api.POST('/api/services/{id}/accounts', {
          params: { path: { id } },
          body: { username, ...(password ? { password } : {}) },
        }),
      ),
    onSuccess: (made) => {
      setShown(made.password ? { username: made.username, password: made.password } : undefined);
      setUsername('');
      setPassword('');
    },
    onSettled: () => qc.invalidateQueries({ queryKey: key }),
  });
  const remove = useMutation({
    mutationFn: (user: string) =>
      call(
        api.DELETE('/api/services/{id}/accounts/{username}', { params: { path: { id, username: user } } }),
      ),
    onSettled: () => qc.invalidateQueries({ queryKey: key }),
  });
  const have = new Set(accounts.data?.accounts.map((a) => a.username));
  const candidates = (peers.data ?? []).map((p) => p.name).filter((n) => !have.has(n));

  return (
    <div
      className="space-y-2 border-t border-slate-200 pt-3 dark:border-slate-800"
      data-testid={`accounts-${id}`}
    >
      <h3 className="text-sm font-medium">Accounts</h3>
      <ErrorBanner message={accounts.error?.message ?? add.error?.message ?? remove.error?.message} />
      {shown && (
        <p role="status" className="rounded-md bg-green-50 p-2 text-sm dark:bg-green-950">
          Password for {shown.username}: <code data-testid="generated-password">{shown.password}</code> —
          shown once here; {shown.username} also sees it on their own page.
        </p>
      )}
      <ul className="text-sm">
        {accounts.data?.accounts.map((a) => (
          <li key={a.username} className="flex items-center justify-between gap-2">
            <span className="font-mono">
              {a.username}
              {a.in_service === false && (
                <span className="ml-2 text-xs text-red-700"> (missing in the service)</span>
              )}
            </span>
            <button
              type="button"
              className="btn-secondary px-2 py-0.5 text-xs"
              disabled={remove.isPending}
              onClick={() => {
                if (
                  window.confirm(
                    `Remove ${a.username}'s account on ${name}? Their data stays in the service.`,
                  )
                )
                  remove.mutate(a.username);
              }}
            >
              Remove
            </button>
          </li>
        ))}
        {accounts.data?.accounts.length === 0 && <li className="text-slate-500">No accounts yet.</li>}
      </ul>
      <form
        className="flex flex-wrap items-end gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          add.mutate();
        }}
      >
        <label className="text-xs">
          Peer
          <select
            className="ml-1 rounded border px-1 py-0.5 text-sm dark:bg-slate-900"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            aria-label="Peer"
          >
            <option value="">choose…</option>
            {candidates.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label className="text-xs">
          Password (optional)
          <input
            type="password"
            className="ml-1 rounded border px-1 py-0.5 text-sm dark:bg-slate-900"
            value={password}
            placeholder="generated"
            onChange={(e) => setPassword(e.target.value)}
            aria-label="Account password"
          />
        </label>
        <button type="submit" className="btn-primary px-2 py-1 text-xs" disabled={!username || add.isPending}>
          Add account
        </button>
      </form>
    </div>
  );
}
