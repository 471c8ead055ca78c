// A backup's volumes: each volume's tar, as its container streams it (ServiceVolumesPort.export), is
// re-packed entry by entry into archive sources: one per regular file, its content the tar entry's own
// stream (the writer takes sources one at a time, so nothing is buffered: memory stays flat whatever
// the volume's size), then the volume's index (VOLUME_INDEX), which holds what a list of files cannot:
// every directory, owner, mode and time, and the symlinks and hard links, carried as data. The
// restore's reader refuses a link entry in an archive (one could point out of staging); as lines of
// the index they are never created on this machine, only inside the service's container at import.
// What a volume may hold and a backup cannot carry (a device, a FIFO, a name that is not UTF-8 or
// too long once encoded) is skipped and named in a note the job shows: a silent skip would be data
// lost without anyone knowing. (Sockets Docker leaves out of the tar itself: they are not data.)
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { NoteFn, ProgressFn } from '../../core/ports/backup-engine.ts';
import type { ServiceVolumesPort } from '../../core/ports/service-volumes.ts';
import {
  type ServiceVolume,
  serviceVolumeSchema,
  type UnpackLimits,
  type VolumeEntry,
  type VolumeIndex,
} from '../../schema/backup.ts';
import type { ArchiveSource } from './archive-writer.ts';
import { volumeFilePath, volumeIndexPath } from './volume-names.ts';

type TarEntry = AsyncIterable<Buffer> & { header: tar.Header };

/** Names listed in a volume's note; the rest are counted (a volume of device nodes stays readable). */
const NOTE_NAMES = 20;

/** Every declared volume, one after the other: its files, then its index. */
export async function* volumeSources(port: ServiceVolumesPort, note: NoteFn): AsyncGenerator<ArchiveSource> {
  const volumes = await port.list();
  const seen = new Set<string>();
  for (const v of volumes) {
    // The store validates its manifests; a wrong one here is a bug to stop on, not a volume to skip.
    const parsed = serviceVolumeSchema.safeParse(v);
    if (!parsed.success)
      throw new Error(`volume ${JSON.stringify(`${v.service}/${v.volume}`)} is not a valid declaration`);
    const key = `${v.service}/${v.volume}`;
    if (seen.has(key)) throw new Error(`volume ${key} is declared twice`);
    seen.add(key);
    yield* repackVolume(v, await port.export(v), note);
  }
}

/** One volume's tar (its top directory first, as `docker cp` makes it) as archive sources. */
export async function* repackVolume(
  v: ServiceVolume,
  tarStream: Readable,
  note: NoteFn,
): AsyncGenerator<ArchiveSource> {
  const extract = tar.extract();
  const piped = pipeline(tarStream, extract);
  // Read once the entries end; a failure before that surfaces through the iterator as well.
  piped.catch(() => undefined);
  const entries: VolumeEntry[] = [];
  const files = new Set<string>();
  const skipped: string[] = [];
  let top: string | undefined;
  const skip = (rel: string, why: string) => skipped.push(`${JSON.stringify(rel)} (${why})`);
  try {
    for await (const raw of extract) {
      const entry = raw as unknown as TarEntry;
      const h = entry.header;
      const name = h.name.replace(/\/+$/, '');
      if (top === undefined) {
        if (h.type !== 'directory' || name.includes('/'))
          throw new Error(`${v.service}/${v.volume}: ${v.path} is not a directory in its container`);
        top = name;
        await drain(entry);
        continue;
      }
      const rel = relative(top, name);
      if (rel === undefined) throw new Error(`${v.service}/${v.volume}: the tar has ${JSON.stringify(name)}`);
      const meta = {
        path: rel,
        mode: (h.mode ?? 0) & 0o7777,
        uid: h.uid ?? 0,
        gid: h.gid ?? 0,
        mtime: Math.max(0, Math.floor((h.mtime?.getTime() ?? 0) / 1000)),
      };
      // tar-stream decodes names as UTF-8: U+FFFD stands for bytes that were not (the name is lost).
      if (rel.includes('\uFFFD')) skip(rel, 'a name that is not UTF-8');
      else if (h.type === 'directory') entries.push({ type: 'directory', ...meta });
      else if (h.type === 'symlink' && h.linkname && !h.linkname.includes('\0'))
        entries.push({ type: 'symlink', target: h.linkname, ...meta });
      else if (h.type === 'link') {
        const target = h.linkname ? relative(top, h.linkname) : undefined;
        if (target !== undefined && files.has(target)) entries.push({ type: 'link', target, ...meta });
        else skip(rel, 'a hard link to something not backed up');
      } else if (h.type === 'file' || h.type === 'contiguous-file') {
        const at = volumeFilePath(v, rel);
        if ('refused' in at) skip(rel, at.refused);
        else {
          const size = h.size ?? 0;
          entries.push({ type: 'file', size, ...meta });
          files.add(rel);
          let opened = false;
          yield {
            path: at.path,
            size,
            open: () => {
              opened = true;
              return Readable.from(entry, { objectMode: false });
            },
          };
          // The writer reads what it opens to the end; nothing else is left to read past.
          if (opened) continue;
        }
      } else skip(rel, (h.type ?? 'unknown type').replaceAll('-', ' '));
      await drain(entry);
    }
    await piped;
  } finally {
    // The writer stopped early (a failure elsewhere): the container's stream goes with it.
    extract.destroy();
    tarStream.destroy();
  }
  if (skipped.length > 0) note(skippedNote(v, skipped));
  const index: VolumeIndex = { service: v.service, volume: v.volume, entries };
  const bytes = Buffer.from(JSON.stringify(index));
  yield { path: volumeIndexPath(v), size: bytes.length, open: () => Readable.from([bytes]) };
}

function skippedNote(v: ServiceVolume, skipped: string[]): string {
  const n = skipped.length;
  const shown = skipped.slice(0, NOTE_NAMES).join(', ');
  const more = n > NOTE_NAMES ? `, and ${n - NOTE_NAMES} more` : '';
  return (
    `Volume ${v.volume} of ${v.service}: ${n} entr${n === 1 ? 'y was' : 'ies were'} not backed up ` +
    `(a backup carries files, directories and links only): ${shown}${more}.`
  );
}

/** `data/a/b` under `data` → `a/b`; undefined when it is not under it or not a plain relative path. */
function relative(top: string, name: string): string | undefined {
  if (!name.startsWith(`${top}/`)) return undefined;
  const rel = name.slice(top.length + 1).replace(/\/+$/, '');
  return rel.split('/').every((s) => s !== '' && s !== '.' && s !== '..') ? rel : undefined;
}

/** Reads past an entry's body (a skipped entry's, or a directory's empty one). */
async function drain(entry: TarEntry): Promise<void> {
  for await (const _ of entry) {
    // the body of an entry nobody reads
  }
}

/**
 * The cell's own sources, then the volumes'. A volume's sizes are known only as its tar streams, so
 * while the volumes go by the phase is 'volumes' and the total is unknown (null); after, it is exact.
 * A backup a restore would refuse (over the unpack budgets: a volume of many small files, or a huge
 * one) fails here instead of being written and found unrestorable on the day it is needed.
 */
export function thenVolumes(
  first: Iterable<ArchiveSource>,
  port: ServiceVolumesPort | undefined,
  progress: ProgressFn,
  note: NoteFn,
  limits: UnpackLimits,
): { sources: AsyncIterable<ArchiveSource>; streaming(): boolean; total(base: number): number | null } {
  let streaming = false;
  let extra = 0;
  // The header and the manifest are entries too.
  let entries = 2;
  let bytes = 0;
  const within = (s: ArchiveSource): ArchiveSource => {
    entries += 1;
    bytes += s.size;
    const over =
      entries > limits.maxEntries
        ? `more than ${limits.maxEntries} files`
        : s.size > limits.maxEntryBytes
          ? `${s.path}, larger than ${limits.maxEntryBytes} bytes`
          : bytes > limits.maxTotalBytes
            ? `more than ${limits.maxTotalBytes} bytes`
            : undefined;
    if (over) throw new Error(`this backup would hold ${over}, which a restore refuses: it was not written`);
    return s;
  };
  const sources = (async function* () {
    let done = 0;
    for (const s of first) {
      yield within(s);
      done += s.size;
    }
    if (!port) return;
    streaming = true;
    progress('volumes', done, null);
    for await (const s of volumeSources(port, note)) {
      yield within(s);
      extra += s.size;
    }
    streaming = false;
  })();
  return { sources, streaming: () => streaming, total: (base) => (streaming ? null : base + extra) };
}
