// One account's folder in the Files service: breadcrumbs, the list (name, size, modified), upload with
// progress (a button or files dropped on the list), download, new folder, rename, move and delete
// with confirmation. The space used and the quota are shown; a file that cannot fit is refused here
// before it is sent (the cell refuses it too: 507).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type DragEvent, useRef, useState } from 'react';
import { ErrorBanner } from '../components/field';
import { useMe } from '../session';
import { formatBytes, ProgressBar } from './backup-job';
import { DeleteDialog, MoveDialog, NameDialog } from './file-dialogs';
import {
  deleteEntry,
  downloadUrl,
  type Entry,
  joinPath,
  listFiles,
  makeFolder,
  moveEntry,
  type Owner,
  uploadFile,
} from './files-api';

type Dialog =
  | { kind: 'new' }
  | { kind: 'rename'; entry: Entry }
  | { kind: 'move'; entry: Entry }
  | { kind: 'delete'; entry: Entry };

interface Upload {
  id: number;
  name: string;
  loaded: number;
  total: number;
  error?: string;
}

let uploadIds = 0;

export function FileBrowser({ owner }: { owner: Owner }) {
  const qc = useQueryClient();
  const me = useMe();
  const ownerKey = owner.kind === 'admin' ? owner.account : '';
  const [path, setPath] = useState<string[]>([]);
  const [dialog, setDialog] = useState<Dialog | undefined>();
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [dragging, setDragging] = useState(false);
  const xhrs = useRef(new Map<number, XMLHttpRequest>());
  const input = useRef<HTMLInputElement>(null);

  const list = useQuery({
    queryKey: ['files', ownerKey, path.join('/')],
    queryFn: () => listFiles(owner, path),
    retry: false,
  });
  const refresh = () =>
    Promise.all([
      qc.invalidateQueries({ queryKey: ['files', ownerKey] }),
      qc.invalidateQueries({ queryKey: ['files-overview'] }),
    ]);
  const act = useMutation({
    mutationFn: async (run: () => Promise<unknown>) => {
      await run();
    },
    onSuccess: () => {
      setDialog(undefined);
      void refresh();
    },
  });
  const close = () => {
    setDialog(undefined);
    act.reset();
  };

  const patch = (id: number, p: Partial<Upload>) =>
    setUploads((all) => all.map((u) => (u.id === id ? { ...u, ...p } : u)));

  async function upload(files: File[]) {
    const listing = list.data;
    if (!listing) return;
    const names = new Set(listing.entries.map((e) => e.name));
    let free = listing.quota_bytes - listing.used_bytes;
    for (const file of files) {
      const id = ++uploadIds;
      setUploads((all) => [...all, { id, name: file.name, loaded: 0, total: file.size }]);
      if (names.has(file.name) && listing.entries.find((e) => e.name === file.name)?.type === 'folder') {
        patch(id, { error: 'A folder of this name is here already.' });
        continue;
      }
      const overwrite = names.has(file.name);
      if (overwrite && !window.confirm(`${file.name} is here already. Replace it?`)) {
        setUploads((all) => all.filter((u) => u.id !== id));
        continue;
      }
      const replaced = overwrite ? (listing.entries.find((e) => e.name === file.name)?.size ?? 0) : 0;
      if (file.size > free + replaced) {
        patch(id, {
          error: `Over quota: ${formatBytes(file.size)} does not fit in the ${formatBytes(Math.max(0, free))} left.`,
        });
        continue;
      }
      const xhr = new XMLHttpRequest();
      xhrs.current.set(id, xhr);
      try {
        await uploadFile(owner, joinPath(path, file.name), file, {
          overwrite,
          csrf: me.data?.csrf_token ?? '',
          xhr,
          onProgress: (p) => patch(id, p),
        });
        free -= file.size - replaced;
        setUploads((all) => all.filter((u) => u.id !== id));
      } catch (e) {
        patch(id, { error: e instanceof Error ? e.message : String(e) });
      } finally {
        xhrs.current.delete(id);
        void refresh();
      }
    }
  }

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const files = [...e.dataTransfer.files];
    if (files.length > 0) void upload(files);
  };
  const entries = list.data?.entries ?? [];
  const listing = list.data;

  return (
    <section className="card space-y-3" aria-label="Files" data-testid="file-browser">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <nav
          aria-label="Folder"
          className="flex flex-wrap items-center gap-1 text-sm"
          data-testid="breadcrumbs"
        >
          <button type="button" className="font-medium underline" onClick={() => setPath([])}>
            Home
          </button>
          {path.map((seg, i) => (
            <span key={path.slice(0, i + 1).join('/')} className="flex items-center gap-1">
              <span aria-hidden="true">/</span>
              <button type="button" className="underline" onClick={() => setPath(path.slice(0, i + 1))}>
                {seg}
              </button>
            </span>
          ))}
        </nav>
        <div className="flex flex-wrap gap-2">
          <button
            type="button"
            className="btn-secondary px-3 py-1"
            onClick={() => setDialog({ kind: 'new' })}
          >
            New folder
          </button>
          <button
            type="button"
            className="btn-primary px-3 py-1"
            disabled={!listing}
            onClick={() => input.current?.click()}
          >
            Upload
          </button>
          <input
            ref={input}
            type="file"
            multiple
            className="hidden"
            aria-label="Files to upload"
            onChange={(e) => {
              const files = [...(e.target.files ?? [])];
              e.target.value = '';
              if (files.length > 0) void upload(files);
            }}
          />
        </div>
      </div>
      {listing && (
        <div className="space-y-1 text-xs text-slate-600 dark:text-slate-400" data-testid="usage">
          <p>
            {formatBytes(listing.used_bytes)} of {formatBytes(listing.quota_bytes)} used
          </p>
          <ProgressBar label="Space used" done={listing.used_bytes} total={listing.quota_bytes} />
        </div>
      )}
      <ErrorBanner message={list.error?.message ?? (dialog ? undefined : act.error?.message)} />
      {uploads.length > 0 && (
        <ul className="space-y-2" data-testid="uploads">
          {uploads.map((u) => (
            <li key={u.id} className="space-y-1 text-sm">
              <div className="flex items-center justify-between gap-2">
                <span className="truncate">
                  {u.name}{' '}
                  {!u.error && (
                    <span className="text-xs text-slate-500" role="status">
                      {formatBytes(u.loaded)} of {formatBytes(u.total)}
                    </span>
                  )}
                </span>
                {u.error ? (
                  <button
                    type="button"
                    className="text-xs underline"
                    onClick={() => setUploads((all) => all.filter((x) => x.id !== u.id))}
                  >
                    Dismiss
                  </button>
                ) : (
                  <button
                    type="button"
                    className="text-xs underline"
                    onClick={() => xhrs.current.get(u.id)?.abort()}
                  >
                    Cancel
                  </button>
                )}
              </div>
              {u.error ? (
                <p role="alert" className="field-error">
                  {u.name}: {u.error}
                </p>
              ) : (
                <ProgressBar label={`Uploading ${u.name}`} done={u.loaded} total={u.total} />
              )}
            </li>
          ))}
        </ul>
      )}
      {/* biome-ignore lint/a11y/noStaticElementInteractions: dropping files is a shortcut; Upload does the same */}
      <div
        data-testid="drop-zone"
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        className={`rounded-md border-2 border-dashed ${dragging ? 'border-indigo-500 bg-indigo-50 dark:bg-indigo-950' : 'border-transparent'}`}
      >
        {list.isPending && <p className="p-4 text-sm text-slate-500">Loading…</p>}
        {list.isSuccess && entries.length === 0 && (
          <p className="p-6 text-center text-sm text-slate-500">
            This folder is empty. Drop files here, or use Upload.
          </p>
        )}
        {entries.length > 0 && (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm">
              <thead className="text-xs text-slate-500">
                <tr>
                  <th className="py-1 pr-2 font-medium">Name</th>
                  <th className="hidden py-1 pr-2 font-medium sm:table-cell">Size</th>
                  <th className="hidden py-1 pr-2 font-medium md:table-cell">Modified</th>
                  <th className="py-1 font-medium">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {entries.map((e) => (
                  <tr
                    key={e.name}
                    className="border-t border-slate-100 dark:border-slate-800"
                    data-testid="file-row"
                  >
                    <td className="max-w-[16rem] truncate py-1.5 pr-2">
                      {e.type === 'folder' ? (
                        <button
                          type="button"
                          className="font-medium underline"
                          onClick={() => setPath([...path, e.name])}
                        >
                          <span aria-hidden="true">▤ </span>
                          {e.name}
                        </button>
                      ) : (
                        <span>{e.name}</span>
                      )}
                    </td>
                    <td className="hidden py-1.5 pr-2 whitespace-nowrap sm:table-cell">
                      {e.type === 'file' ? formatBytes(e.size) : '—'}
                    </td>
                    <td className="hidden py-1.5 pr-2 whitespace-nowrap md:table-cell">
                      {new Date(e.modified).toLocaleString()}
                    </td>
                    <td className="py-1.5">
                      <div className="flex flex-wrap justify-end gap-1 text-xs">
                        {e.type === 'file' && (
                          <a
                            className="btn-secondary px-2 py-0.5 text-xs"
                            href={downloadUrl(owner, joinPath(path, e.name))}
                            download={e.name}
                            aria-label={`Download ${e.name}`}
                          >
                            Download
                          </a>
                        )}
                        {(['rename', 'move', 'delete'] as const).map((kind) => (
                          <button
                            key={kind}
                            type="button"
                            className="btn-secondary px-2 py-0.5 text-xs"
                            aria-label={`${kind[0]!.toUpperCase()}${kind.slice(1)} ${e.name}`}
                            onClick={() => {
                              act.reset();
                              setDialog({ kind, entry: e });
                            }}
                          >
                            {kind[0]!.toUpperCase()}
                            {kind.slice(1)}
                          </button>
                        ))}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      {dialog?.kind === 'new' && (
        <NameDialog
          title="New folder"
          label="Folder name"
          initial=""
          ok="Create"
          busy={act.isPending}
          error={act.error?.message}
          onSubmit={(name) => act.mutate(() => makeFolder(owner, joinPath(path, name)))}
          onClose={close}
        />
      )}
      {dialog?.kind === 'rename' && (
        <NameDialog
          title={`Rename ${dialog.entry.name}`}
          label="New name"
          initial={dialog.entry.name}
          ok="Rename"
          busy={act.isPending}
          error={act.error?.message}
          onSubmit={(name) =>
            act.mutate(() => moveEntry(owner, joinPath(path, dialog.entry.name), joinPath(path, name)))
          }
          onClose={close}
        />
      )}
      {dialog?.kind === 'move' && (
        <MoveDialog
          owner={owner}
          name={dialog.entry.name}
          source={dialog.entry.type === 'folder' ? [...path, dialog.entry.name] : [...path, '\0']}
          start={path}
          busy={act.isPending}
          error={act.error?.message}
          onSubmit={(folder) =>
            act.mutate(() =>
              moveEntry(owner, joinPath(path, dialog.entry.name), joinPath(folder, dialog.entry.name)),
            )
          }
          onClose={close}
        />
      )}
      {dialog?.kind === 'delete' && (
        <DeleteDialog
          name={dialog.entry.name}
          folder={dialog.entry.type === 'folder'}
          busy={act.isPending}
          error={act.error?.message}
          onSubmit={() =>
            act.mutate(() =>
              deleteEntry(owner, joinPath(path, dialog.entry.name), dialog.entry.type === 'folder'),
            )
          }
          onClose={close}
        />
      )}
    </section>
  );
}
