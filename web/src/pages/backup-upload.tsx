// Settings → Backups: upload an archive (from another cell, or one downloaded earlier) as the raw body.
// XMLHttpRequest rather than fetch: only it reports upload progress, and archives run to gigabytes.
import { useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { ApiError } from '../api/client';
import { ErrorBanner } from '../components/field';
import { useMe } from '../session';
import { BACKUPS_KEY, formatBytes, ProgressBar } from './backup-job';

interface Sent {
  loaded: number;
  total: number;
}

/** POST the file; resolves with the new backup's id, rejects with an ApiError (status 0: no answer). */
function send(file: File, csrf: string, onProgress: (s: Sent) => void, xhr: XMLHttpRequest) {
  return new Promise<string>((resolve, reject) => {
    xhr.open('POST', '/api/config/backups/upload');
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.setRequestHeader('x-csrf-token', csrf);
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) =>
      onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
    xhr.onload = () => {
      let body: { backup_id?: string; error?: string; message?: string } = {};
      try {
        body = JSON.parse(xhr.responseText || '{}');
      } catch {
        body = { message: `The cell answered ${xhr.status}` };
      }
      if (xhr.status === 201 && body.backup_id) resolve(body.backup_id);
      else if (xhr.status === 413)
        reject(
          new ApiError(413, {
            error: 'payload_too_large',
            message: 'The file is larger than the cell accepts.',
          }),
        );
      else reject(new ApiError(xhr.status, body));
    };
    xhr.onerror = () =>
      reject(new ApiError(0, { message: 'The upload failed: the connection to the cell broke.' }));
    xhr.onabort = () => reject(new ApiError(0, { error: 'aborted', message: 'Upload cancelled.' }));
    xhr.send(file);
  });
}

export function UploadBackup() {
  const qc = useQueryClient();
  const me = useMe();
  const xhr = useRef<XMLHttpRequest | undefined>(undefined);
  const [sent, setSent] = useState<Sent | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [uploaded, setUploaded] = useState<string | undefined>();

  async function upload(file: File) {
    setError(undefined);
    setUploaded(undefined);
    setSent({ loaded: 0, total: file.size });
    xhr.current = new XMLHttpRequest();
    try {
      const id = await send(file, me.data?.csrf_token ?? '', setSent, xhr.current);
      setUploaded(id);
      await qc.invalidateQueries({ queryKey: BACKUPS_KEY });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      xhr.current = undefined;
      setSent(undefined);
    }
  }

  return (
    <div className="mt-4 border-t border-slate-200 pt-4 dark:border-slate-800">
      <label className="block text-sm font-medium" htmlFor="backup-file">
        Upload a backup file
      </label>
      <p className="mb-1 text-xs text-slate-500">
        A <span className="font-mono">.tar.gz.age</span> or <span className="font-mono">.tar.gz</span> archive
        made by PIC; it joins the list below, ready to restore.
      </p>
      <input
        id="backup-file"
        type="file"
        accept=".age,.gz,application/octet-stream"
        className="text-sm"
        disabled={sent !== undefined}
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = '';
          if (file) void upload(file);
        }}
      />
      {sent ? (
        <div className="mt-2 space-y-1">
          <p className="text-sm" role="status">
            Uploading… {formatBytes(sent.loaded)} of {formatBytes(sent.total)}
          </p>
          <ProgressBar label="Upload progress" done={sent.loaded} total={sent.total} />
          <button type="button" className="btn-secondary" onClick={() => xhr.current?.abort()}>
            Cancel upload
          </button>
        </div>
      ) : null}
      {uploaded ? (
        <p role="status" className="mt-2 text-sm text-green-700 dark:text-green-400">
          Uploaded as <span className="font-mono">{uploaded}</span>.
        </p>
      ) : null}
      <div className="mt-2">
        <ErrorBanner message={error} />
      </div>
    </div>
  );
}
