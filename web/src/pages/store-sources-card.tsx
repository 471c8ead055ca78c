// The Service Store's sources and keys: the remote index URL (store_index_url in the configuration),
// what the last fetch said, and the public keys signed images are verified against (bundled ones
// cannot be deleted). docs/store/remote-index.md.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, call } from '../api/client';
import type { paths } from '../api/schema';
import { ErrorBanner, Field } from '../components/field';

type Catalog = paths['/api/services/catalog']['get']['responses']['200']['content']['application/json'];

export function StoreSourcesCard({ index, onChanged }: { index: Catalog['index']; onChanged: () => void }) {
  const qc = useQueryClient();
  const config = useQuery({
    queryKey: ['config'],
    queryFn: () => call(api.GET('/api/config')),
    retry: false,
  });
  const keys = useQuery({
    queryKey: ['store-keys'],
    queryFn: () => call(api.GET('/api/store/keys')),
    retry: false,
  });
  const [url, setUrl] = useState('');
  const [pem, setPem] = useState('');
  useEffect(() => setUrl(config.data?.store_index_url ?? ''), [config.data?.store_index_url]);
  const saveUrl = useMutation({
    mutationFn: () =>
      call(api.PUT('/api/config', { body: { store_index_url: url.trim() === '' ? null : url.trim() } })),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ['config'] });
      onChanged();
    },
  });
  const addKey = useMutation({
    mutationFn: () => call(api.POST('/api/store/keys', { body: { pem } })),
    onSuccess: () => {
      setPem('');
      qc.invalidateQueries({ queryKey: ['store-keys'] });
    },
  });
  const delKey = useMutation({
    mutationFn: (id: string) => call(api.DELETE('/api/store/keys/{id}', { params: { path: { id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['store-keys'] }),
  });
  const error =
    saveUrl.error?.message ?? addKey.error?.message ?? delKey.error?.message ?? keys.error?.message;

  return (
    <section className="card space-y-3" data-testid="store-sources" aria-label="Store sources and keys">
      <h2 className="font-semibold">Store sources and keys</h2>
      <ErrorBanner message={error} />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          saveUrl.mutate();
        }}
      >
        <Field
          label="Remote index URL"
          help="A JSON index of more services (https only). Leave empty for PIC's own catalog only."
        >
          {(p) => (
            <input
              {...p}
              className="input"
              type="url"
              placeholder="https://store.example.org/index.json"
              value={url}
              onChange={(e) => setUrl(e.target.value)}
            />
          )}
        </Field>
        <button type="submit" className="btn-secondary px-3 py-1" disabled={saveUrl.isPending}>
          Save
        </button>
      </form>
      {index && (
        <div className="text-xs" data-testid="store-index-status">
          <p>
            {index.error
              ? `The index could not be read: ${index.error}`
              : `${index.services} service(s) from the index, fetched ${index.fetched_at ?? 'never'}.`}
          </p>
          {index.problems.length > 0 && (
            <ul className="list-disc pl-5 text-red-700 dark:text-red-400">
              {index.problems.map((p) => (
                <li key={`${p.id ?? ''}${p.message}`}>
                  {p.id ? `${p.id}: ` : ''}
                  {p.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      <h3 className="text-sm font-semibold">Trusted signing keys</h3>
      <p className="text-xs text-slate-500">
        A service from the index runs only if its images are signed by one of these keys (ECDSA P-256,
        cosign.pub).
      </p>
      <ul className="space-y-1 text-xs" data-testid="store-keys">
        {(keys.data?.keys ?? []).map((k) => (
          <li key={k.id} className="flex items-center justify-between gap-2">
            <span className="font-mono break-all">{k.id.slice(0, 16)}…</span>
            <span>{k.bundled ? 'bundled with PIC' : `added ${k.added_at}`}</span>
            {!k.bundled && (
              <button
                type="button"
                className="btn-secondary px-2 py-0.5"
                onClick={() => {
                  if (
                    window.confirm('Stop trusting this key? Images signed only by it will no longer install.')
                  )
                    delKey.mutate(k.id);
                }}
              >
                Delete
              </button>
            )}
          </li>
        ))}
        {keys.isSuccess && keys.data.keys.length === 0 && <li>No key yet.</li>}
      </ul>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          addKey.mutate();
        }}
      >
        <Field label="Add a public key (PEM)">
          {(p) => (
            <textarea
              {...p}
              className="input font-mono text-xs"
              rows={4}
              placeholder="-----BEGIN PUBLIC KEY-----"
              value={pem}
              onChange={(e) => setPem(e.target.value)}
            />
          )}
        </Field>
        <button
          type="submit"
          className="btn-secondary px-3 py-1"
          disabled={addKey.isPending || pem.trim() === ''}
        >
          Add key
        </button>
      </form>
    </section>
  );
}
