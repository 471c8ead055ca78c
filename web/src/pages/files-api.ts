// The Files page's calls (ADR 0010): the same operations on the owner's routes (any account's folder,
// /api/files/<account>/...) and a peer's (its own, /api/peer/files/...). Uploads go through
// XMLHttpRequest: only it reports upload progress.
import { ApiError, api, call } from '../api/client';
import type { paths } from '../api/schema';

export type Listing = paths['/api/peer/files/list']['get']['responses']['200']['content']['application/json'];
export type Entry = Listing['entries'][number];

/** Whose folder: an account the owner picked, or the logged-in peer's own. */
export type Owner = { kind: 'admin'; account: string } | { kind: 'peer' };

export const joinPath = (folder: string[], name: string) => [...folder, name].join('/');

export function listFiles(o: Owner, path: string[]): Promise<Listing> {
  const query = { path: path.join('/') };
  return o.kind === 'admin'
    ? call(api.GET('/api/files/{account}/list', { params: { path: { account: o.account }, query } }))
    : call(api.GET('/api/peer/files/list', { params: { query } }));
}

export function makeFolder(o: Owner, path: string): Promise<Entry> {
  return o.kind === 'admin'
    ? call(
        api.POST('/api/files/{account}/folders', {
          params: { path: { account: o.account } },
          body: { path },
        }),
      )
    : call(api.POST('/api/peer/files/folders', { body: { path } }));
}

export function moveEntry(o: Owner, from: string, to: string): Promise<Entry> {
  return o.kind === 'admin'
    ? call(
        api.POST('/api/files/{account}/move', {
          params: { path: { account: o.account } },
          body: { from, to },
        }),
      )
    : call(api.POST('/api/peer/files/move', { body: { from, to } }));
}

export async function deleteEntry(o: Owner, path: string, folder: boolean): Promise<void> {
  const query = { path, recursive: folder ? ('true' as const) : ('false' as const) };
  if (o.kind === 'admin')
    await call(
      api.DELETE('/api/files/{account}/entries', { params: { path: { account: o.account }, query } }),
    );
  else await call(api.DELETE('/api/peer/files/entries', { params: { query } }));
}

const base = (o: Owner) =>
  o.kind === 'admin' ? `/api/files/${encodeURIComponent(o.account)}` : '/api/peer/files';

export const downloadUrl = (o: Owner, path: string) => `${base(o)}/download?path=${encodeURIComponent(path)}`;

export interface Progress {
  loaded: number;
  total: number;
}

/** PUT the file as the raw body; rejects with an ApiError (status 0: no answer, or cancelled). */
export function uploadFile(
  o: Owner,
  path: string,
  file: File,
  opts: { overwrite: boolean; csrf: string; xhr: XMLHttpRequest; onProgress: (p: Progress) => void },
): Promise<Entry> {
  const { xhr } = opts;
  return new Promise((resolve, reject) => {
    xhr.open(
      'PUT',
      `${base(o)}/upload?path=${encodeURIComponent(path)}${opts.overwrite ? '&overwrite=true' : ''}`,
    );
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.setRequestHeader('x-csrf-token', opts.csrf);
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) =>
      opts.onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
    xhr.onload = () => {
      let body: { error?: string; message?: string } & Partial<Entry> = {};
      try {
        body = JSON.parse(xhr.responseText || '{}');
      } catch {
        body = { message: `The cell answered ${xhr.status}` };
      }
      if (xhr.status === 201) resolve(body as Entry);
      else reject(new ApiError(xhr.status, body));
    };
    xhr.onerror = () =>
      reject(new ApiError(0, { message: 'The upload failed: the connection to the cell broke.' }));
    xhr.onabort = () => reject(new ApiError(0, { error: 'aborted', message: 'Upload cancelled.' }));
    xhr.send(file);
  });
}
