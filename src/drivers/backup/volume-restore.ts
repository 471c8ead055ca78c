// A restore's volumes, after the swap and before the staging directory is deleted: each volume the
// backup holds and an installed service declares is packed again from its staged files and its
// index (a tar streamed from the files, never held in memory) and handed to the service's container
// (ServiceVolumesPort.import), which replaces the directory's contents with it. Every index is read
// and checked against the staged files first, so a damaged one stops before any volume is emptied.
// Journaled with the swap (cell-state.ts): the journal keeps the staging directory until this step is
// over, so a crash in the middle (a volume emptied, half filled) is finished at the next start, which
// runs this again from the same staged files (each import empties the directory first).
import {
  constants,
  createReadStream,
  existsSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
} from 'node:fs';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { NoteFn, ProgressFn } from '../../core/ports/backup-engine.ts';
import type { ServiceVolumesPort } from '../../core/ports/service-volumes.ts';
import {
  type ServiceVolume,
  VOLUME_INDEX,
  type VolumeEntry,
  type VolumeIndex,
  volumeIndexSchema,
} from '../../schema/backup.ts';
import { encodeVolumePath } from './volume-names.ts';
import { YoungGc } from './young-gc.ts';

/** An index is JSON read whole: a few hundred bytes an entry, up to the unpack budget's entries. */
const MAX_INDEX_BYTES = 256 * 1024 * 1024;

interface StagedVolume {
  service: string;
  volume: string;
  /** Its directory under staging. */
  dir: string;
}

export async function restoreStagedVolumes(
  staging: string,
  port: ServiceVolumesPort | undefined,
  progress: ProgressFn,
  note: NoteFn,
  /** Test hook: called once, 1 MiB into the volumes (the crash tests kill the process there). */
  midway?: () => void,
): Promise<void> {
  const staged = stagedVolumes(staging);
  let first = midway;
  if (!port) {
    if (staged.length > 0)
      note(
        `This backup holds ${staged.length} data volume(s) (${staged.map(nameOf).join(', ')}); this process ` +
          'cannot reach the services’ containers, so they were not restored.',
      );
    return;
  }
  const installed = new Map((await port.list()).map((v) => [nameOf(v), v]));
  const work: { v: ServiceVolume; dir: string; index: VolumeIndex }[] = [];
  for (const s of staged) {
    const v = installed.get(nameOf(s));
    if (!v) {
      note(
        `Volume ${s.volume} of ${s.service} is in the backup, but no installed service declares it: ` +
          'it was not restored, and is kept nowhere on this machine but in the backup file itself ' +
          '(install the service, then restore this backup again).',
      );
      continue;
    }
    try {
      work.push({ v, dir: s.dir, index: readIndex(s) });
    } catch (err) {
      throw new Error(`the cell was restored, but none of its volumes: ${(err as Error).message}`);
    }
  }
  for (const v of installed.values())
    if (!staged.some((s) => nameOf(s) === nameOf(v)))
      note(`Volume ${v.volume} of ${v.service} is not in this backup: its data was left as it was.`);
  const total = work.reduce((n, w) => n + filesSize(w.index), 0);
  // The volumes' bytes go through tar-stream and the engine's request: collected in step too.
  const young = new YoungGc();
  let done = 0;
  const failed: string[] = [];
  for (const w of work) {
    progress('volumes_restore', done, total);
    const before = done;
    try {
      await importVolume(port, w, note, (n) => {
        done += n;
        young.add(n);
        // 1 MiB in: the container has emptied the directory and taken part of the tar.
        if (done >= 1024 * 1024) {
          const hook = first;
          first = undefined;
          hook?.();
        }
        progress('volumes_restore', done, total);
      });
    } catch (err) {
      failed.push(`${nameOf(w.v)}: ${(err as Error).message}`);
    }
    done = before + filesSize(w.index);
  }
  progress('volumes_restore', done, total);
  if (failed.length > 0)
    throw new Error(
      `the cell was restored, but not these volumes (restore the backup again once fixed): ${failed.join('; ')}`,
    );
}

/** Whether the staging directory holds any volume (its step is journaled then). */
export function hasStagedVolumes(staging: string): boolean {
  return stagedVolumes(staging).length > 0;
}

function nameOf(v: { service: string; volume: string }): string {
  return `${v.service}/${v.volume}`;
}

/** `volumes/<service>/<volume>/` in staging (the reader let in only those names). */
function stagedVolumes(staging: string): StagedVolume[] {
  const root = join(staging, 'volumes');
  if (!existsSync(root)) return [];
  const out: StagedVolume[] = [];
  for (const service of readdirSync(root, { withFileTypes: true })) {
    if (!service.isDirectory()) continue;
    for (const volume of readdirSync(join(root, service.name), { withFileTypes: true }))
      if (volume.isDirectory())
        out.push({ service: service.name, volume: volume.name, dir: join(root, service.name, volume.name) });
  }
  return out.sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
}

/** The index, checked against the staged files: each file there, regular, of its size; links in order. */
function readIndex(s: StagedVolume): VolumeIndex {
  const fail = (why: string) => new Error(`volume ${nameOf(s)} in the backup ${why}`);
  const file = join(s.dir, VOLUME_INDEX);
  if (!existsSync(file)) throw fail('has no index');
  if (lstatSync(file).size > MAX_INDEX_BYTES) throw fail('has an index too large to read');
  let index: VolumeIndex;
  try {
    index = volumeIndexSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    throw fail('has an index that is not valid');
  }
  if (index.service !== s.service || index.volume !== s.volume) throw fail("has another volume's index");
  const files = new Set<string>();
  const paths = new Set<string>();
  for (const e of index.entries) {
    if (paths.has(e.path)) throw fail(`lists ${JSON.stringify(e.path)} twice`);
    paths.add(e.path);
    if (e.type === 'file') {
      const st = lstatSync(join(s.dir, ...encodeVolumePath(e.path).split('/')), { throwIfNoEntry: false });
      if (!st?.isFile() || st.size !== e.size) throw fail(`lacks ${JSON.stringify(e.path)}`);
      files.add(e.path);
    }
    if (e.type === 'link' && !files.has(e.target))
      throw fail(`links ${JSON.stringify(e.path)} to a file it does not hold`);
  }
  return index;
}

function filesSize(index: VolumeIndex): number {
  return index.entries.reduce((n, e) => n + (e.type === 'file' ? e.size : 0), 0);
}

async function importVolume(
  port: ServiceVolumesPort,
  w: { v: ServiceVolume; dir: string; index: VolumeIndex },
  note: NoteFn,
  bytes: (n: number) => void,
): Promise<void> {
  const pack = tar.pack();
  const body = Readable.from(pack, { objectMode: false });
  // Destroyed with the failure below, for the importer to see; that failure is reported once, by us.
  body.on('error', () => undefined);
  const skipped: string[] = [];
  const fill = (async () => {
    // Links last: a hard link's file is in by then, and no file is ever written through a symlink.
    const order = (e: VolumeEntry) => (e.type === 'symlink' ? 2 : e.type === 'link' ? 1 : 0);
    for (const rank of [0, 1, 2])
      for (const e of w.index.entries) {
        if (order(e) !== rank) continue;
        if (e.type === 'symlink' && escapes(e.path, e.target)) {
          skipped.push(`${JSON.stringify(e.path)} → ${JSON.stringify(e.target)}`);
          continue;
        }
        await addEntry(pack, w.dir, e, bytes);
      }
    pack.finalize();
  })();
  const imported = port.import(w.v, body);
  try {
    await Promise.all([imported, fill]);
  } catch (err) {
    // Either side's failure ends the other: the request's body errors (so the upload stops), and a
    // file waiting on a drain sees its entry close.
    pack.destroy(err as Error);
    body.destroy(err as Error);
    await Promise.allSettled([imported, fill]);
    throw err;
  }
  if (skipped.length > 0)
    note(
      `Volume ${w.v.volume} of ${w.v.service}: ${skipped.length} symlink(s) pointing out of the volume ` +
        `were not restored (Docker refuses to create them): ${skipped.slice(0, 20).join(', ')}` +
        `${skipped.length > 20 ? `, and ${skipped.length - 20} more` : ''}.`,
    );
}

/**
 * Whether Docker's extraction would refuse this symlink (and with it the whole tar): a target that
 * climbs out of the directory. An absolute target is fine: Docker resolves it inside the container.
 */
function escapes(path: string, target: string): boolean {
  const joined = posix.normalize(posix.join(posix.dirname(path), target));
  return joined === '..' || joined.startsWith('../');
}

/**
 * A restored file never gets its setuid or setgid bit back: an archive (crafted, or from a volume a
 * compromised service wrote) must not plant a set-id program in a service's data. A directory keeps
 * setgid (new files inherit its group: no privilege), and nothing keeps setuid.
 */
export function restoredMode(e: Pick<VolumeEntry, 'mode' | 'type'>): number {
  return e.mode & (e.type === 'directory' ? ~0o4000 : ~0o6000) & 0o7777;
}

async function addEntry(
  pack: tar.Pack,
  dir: string,
  e: VolumeEntry,
  bytes: (n: number) => void,
): Promise<void> {
  const h = {
    // tar-stream takes a mode of 0 for "none" and writes 0644: the type's bits keep it (only 07777 is written).
    mode: restoredMode(e) | TYPE_BITS[e.type],
    uid: e.uid,
    gid: e.gid,
    mtime: new Date(e.mtime * 1000),
    // A ustar header holds ids up to 0o777777 (tar-stream writes six digits); larger ones go in pax.
    ...(e.uid > 0o777777 || e.gid > 0o777777 ? { pax: { uid: String(e.uid), gid: String(e.gid) } } : {}),
  };
  if (e.type === 'directory') return entry(pack, { ...h, name: `${e.path}/`, type: 'directory' });
  if (e.type === 'symlink') return entry(pack, { ...h, name: e.path, type: 'symlink', linkname: e.target });
  if (e.type === 'link') return entry(pack, { ...h, name: e.path, type: 'link', linkname: e.target });
  let sink: ReturnType<tar.Pack['entry']> | undefined;
  const done = new Promise<void>((resolve, reject) => {
    sink = pack.entry({ ...h, name: e.path, type: 'file', size: e.size }, (err) =>
      err ? reject(err) : resolve(),
    );
  });
  done.catch(() => undefined);
  const out = sink!;
  out.on('error', () => undefined);
  const file = join(dir, ...encodeVolumePath(e.path).split('/'));
  // O_NOFOLLOW: the reader staged plain files only; nothing there is followed even so.
  const input = createReadStream('', { fd: openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW) });
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      // A destroyed pack (the import failed) closes the entry instead of draining it.
      if (out.destroying) break;
      bytes(chunk.length);
      if (!out.write(chunk) && !out.destroying) await drainOrClose(out);
    }
  } finally {
    input.destroy();
  }
  out.end(undefined);
  await done;
}

function drainOrClose(out: ReturnType<tar.Pack['entry']>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}

const TYPE_BITS: Record<VolumeEntry['type'], number> = {
  directory: 0o040000,
  file: 0o100000,
  symlink: 0o120000,
  link: 0o100000,
};

function entry(pack: tar.Pack, header: Parameters<tar.Pack['entry']>[0]): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header, (err) => (err ? reject(err) : resolve()));
  });
}
