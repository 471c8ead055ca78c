// The Files page's dialogs: a name (new folder, rename), a folder to move into (browsed here, folders
// only), and the confirmation before a delete (naming everything a folder takes with it).
import { useQuery } from '@tanstack/react-query';
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { ErrorBanner, Field } from '../components/field';
import { listFiles, type Owner } from './files-api';

function Dialog({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog
      ref={ref}
      aria-label={title}
      onCancel={onClose}
      className="m-auto w-full max-w-md rounded-lg border border-slate-200 bg-white p-5 text-slate-900 shadow-xl backdrop:bg-black/50 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"
    >
      <h2 className="mb-3 text-lg font-semibold">{title}</h2>
      {children}
    </dialog>
  );
}

function Buttons({
  busy,
  ok,
  onClose,
  danger,
}: {
  busy: boolean;
  ok: string;
  onClose: () => void;
  danger?: boolean;
}) {
  return (
    <div className="flex flex-wrap justify-end gap-2">
      <button type="button" className="btn-secondary" onClick={onClose}>
        Cancel
      </button>
      <button
        type="submit"
        className={danger ? 'btn bg-red-600 text-white hover:bg-red-500' : 'btn-primary'}
        disabled={busy}
      >
        {ok}
      </button>
    </div>
  );
}

/** Asks for a name (a new folder's, or a new name for an entry). */
export function NameDialog(props: {
  title: string;
  label: string;
  initial: string;
  ok: string;
  error: string | undefined;
  busy: boolean;
  onSubmit: (name: string) => void;
  onClose: () => void;
}) {
  const [name, setName] = useState(props.initial);
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) props.onSubmit(name.trim());
        }}
      >
        <Field label={props.label} error={props.error}>
          {(p) => (
            <input
              {...p}
              className="input"
              value={name}
              maxLength={255}
              onChange={(e) => setName(e.target.value)}
              autoFocus
            />
          )}
        </Field>
        <Buttons busy={props.busy || !name.trim()} ok={props.ok} onClose={props.onClose} />
      </form>
    </Dialog>
  );
}

/** Picks the folder to move `name` into: browses the account's folders (never into `name` itself). */
export function MoveDialog(props: {
  owner: Owner;
  name: string;
  /** The entry's own path: a folder cannot move into itself. */
  source: string[];
  start: string[];
  error: string | undefined;
  busy: boolean;
  onSubmit: (folder: string[]) => void;
  onClose: () => void;
}) {
  const [at, setAt] = useState(props.start);
  const ownerKey = props.owner.kind === 'admin' ? props.owner.account : '';
  const list = useQuery({
    queryKey: ['files', ownerKey, at.join('/')],
    queryFn: () => listFiles(props.owner, at),
    retry: false,
  });
  const inside = (p: string[]) => props.source.every((s, i) => p[i] === s) && p.length >= props.source.length;
  const folders = (list.data?.entries ?? []).filter((e) => e.type === 'folder' && !inside([...at, e.name]));
  return (
    <Dialog title={`Move ${props.name}`} onClose={props.onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          props.onSubmit(at);
        }}
      >
        <nav aria-label="Move to" className="mb-2 flex flex-wrap items-center gap-1 text-sm">
          <button type="button" className="underline" onClick={() => setAt([])}>
            Home
          </button>
          {at.map((seg, i) => (
            <span key={at.slice(0, i + 1).join('/')} className="flex items-center gap-1">
              <span aria-hidden="true">/</span>
              <button type="button" className="underline" onClick={() => setAt(at.slice(0, i + 1))}>
                {seg}
              </button>
            </span>
          ))}
        </nav>
        <ul className="mb-3 max-h-60 overflow-auto rounded border border-slate-200 text-sm dark:border-slate-700">
          {list.isPending && <li className="p-2 text-slate-500">Loading…</li>}
          {list.isSuccess && folders.length === 0 && <li className="p-2 text-slate-500">No folders here.</li>}
          {folders.map((f) => (
            <li key={f.name}>
              <button
                type="button"
                className="w-full px-2 py-1 text-left hover:bg-slate-100 dark:hover:bg-slate-800"
                onClick={() => setAt([...at, f.name])}
              >
                <span aria-hidden="true">▤ </span>
                {f.name}
              </button>
            </li>
          ))}
        </ul>
        <p className="mb-3 text-sm">
          Into: <span className="font-mono">/{at.join('/')}</span>
        </p>
        <ErrorBanner message={list.error?.message ?? props.error} />
        <Buttons busy={props.busy} ok="Move here" onClose={props.onClose} />
      </form>
    </Dialog>
  );
}

export function DeleteDialog(props: {
  name: string;
  folder: boolean;
  error: string | undefined;
  busy: boolean;
  onSubmit: () => void;
  onClose: () => void;
}) {
  return (
    <Dialog title={`Delete ${props.name}?`} onClose={props.onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          props.onSubmit();
        }}
      >
        <p className="mb-4 text-sm">
          {props.folder
            ? `The folder ${props.name} and everything in it are deleted for good.`
            : `${props.name} is deleted for good.`}
        </p>
        <ErrorBanner message={props.error} />
        <Buttons busy={props.busy} ok="Delete" onClose={props.onClose} danger />
      </form>
    </Dialog>
  );
}
