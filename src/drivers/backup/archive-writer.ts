// Writes a backup archive in one pass: tar entries (hashed as they stream) → gzip on several threads
// (parallel-gzip.ts) → age (age-stream.ts) → the file. Memory stays flat whatever the sizes: each
// source is read chunk by chunk, copied into gzip's few reused blocks, with backpressure from the
// file. The manifest of every file's SHA-256 goes last, so nothing is read twice; the file appears
// under its name only once complete (temp name, fsync, rename).
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createWriteStream, fsyncSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  ARCHIVE_PATH_PATTERN,
  type BackupHeader,
  type BackupManifest,
  HEADER_PATH,
  MANIFEST_PATH,
  type ManifestEntry,
} from '../../schema/backup.ts';
import { fsyncDir } from '../atomic-file.ts';
import { ageEncrypter } from './age-stream.ts';
import { ParallelGzip } from './parallel-gzip.ts';
import { fileHeader, padding, ZEROS } from './tar-header.ts';
import { YoungGc } from './young-gc.ts';

export interface ArchiveSource {
  /** Where it goes in the archive (ARCHIVE_PATH_PATTERN). */
  path: string;
  /** Exact size in bytes: a tar header carries it before the content. */
  size: number;
  /**
   * The content: a stream, or chunks from a (sync or async) iterable. The writer copies each chunk
   * before it pulls the next, so a source may hand out one buffer again and again.
   */
  open():
    | Readable
    | Iterable<Buffer>
    | AsyncIterable<Buffer>
    | Promise<Readable | Iterable<Buffer> | AsyncIterable<Buffer>>;
}

export interface Encryption {
  passphrase?: string;
  /** age recipients (age1…), for copies the cell itself cannot open. */
  recipients?: string[];
  /** scrypt's log2 work factor (default age's 18; tests lower it). */
  workFactor?: number;
}

export interface WriteArchiveOptions {
  out: string;
  header: BackupHeader;
  sources: AsyncIterable<ArchiveSource> | Iterable<ArchiveSource>;
  encryption?: Encryption;
  /** Content bytes written so far (called at most every 1 MiB and at the end). */
  onProgress?: (bytesDone: number) => void;
  signal?: AbortSignal;
}

/** A temp file beside the archive while it is written; swept at start (PARTIAL_MARK). */
export const PARTIAL_MARK = '.partial-';

/** The longest the writer keeps the event loop between two files before giving it a turn. */
const TURN_MS = 10;

export async function writeArchive(
  opts: WriteArchiveOptions,
): Promise<{ size: number; manifest: BackupManifest }> {
  const temp = join(
    dirname(opts.out),
    `${basename(opts.out)}${PARTIAL_MARK}${randomBytes(4).toString('hex')}`,
  );
  // The age header first (scrypt: about a second at work factor 18, on the thread pool): a key that
  // cannot be used fails here, before anything is read or written.
  const age = encrypts(opts.encryption) ? await ageEncrypter(opts.encryption) : undefined;
  const fd = openSync(temp, 'wx', 0o600);
  let closed = false;
  const gzip = new ParallelGzip();
  const sink = written(gzip, fd, age);
  // On a failure below, the sink fails too once gzip is destroyed: that rejection is expected.
  sink.catch(() => undefined);
  try {
    const manifest = await fill(gzip, opts);
    await gzip.end();
    const size = await sink;
    fsyncSync(fd);
    closeSync(fd);
    closed = true;
    renameSync(temp, opts.out);
    fsyncDir(dirname(opts.out));
    return { size, manifest };
  } catch (err) {
    gzip.destroy(err as Error);
    await sink.catch(() => undefined);
    if (!closed) closeQuietly(fd);
    unlinkSync(temp);
    throw err;
  }
}

function encrypts(enc: Encryption | undefined): enc is Encryption {
  return enc !== undefined && (enc.passphrase !== undefined || (enc.recipients?.length ?? 0) > 0);
}

/** Pipes the gzip stream to the file, through age when there is a key; resolves to the bytes written. */
async function written(gzip: Readable, fd: number, age: Transform | undefined): Promise<number> {
  let bytes = 0;
  const young = new YoungGc();
  const count = new Transform({
    transform(chunk: Buffer, _e, cb) {
      bytes += chunk.length;
      young.add(chunk.length);
      cb(null, chunk);
    },
  });
  // autoClose false: writeArchive fsyncs and closes the descriptor it opened.
  const out = createWriteStream('', { fd, autoClose: false });
  await (age ? pipeline(gzip, age, count, out) : pipeline(gzip, count, out));
  return bytes;
}

async function fill(gzip: ParallelGzip, opts: WriteArchiveOptions): Promise<BackupManifest> {
  const files: ManifestEntry[] = [];
  const seen = new Set<string>();
  let done = 0;
  let reported = 0;
  const progress = (n: number) => {
    done += n;
    if (done - reported >= 1 << 20) {
      reported = done;
      opts.onProgress?.(done);
    }
  };
  await addBuffer(gzip, HEADER_PATH, Buffer.from(JSON.stringify(opts.header, null, 2)));
  let turn = performance.now();
  for await (const source of opts.sources) {
    opts.signal?.throwIfAborted();
    if (
      !ARCHIVE_PATH_PATTERN.test(source.path) ||
      source.path === HEADER_PATH ||
      source.path === MANIFEST_PATH
    )
      throw new Error(`refusing to archive ${JSON.stringify(source.path)}: not a valid archive path`);
    if (seen.has(source.path)) throw new Error(`${source.path} is in the backup twice`);
    seen.add(source.path);
    const sha256 = await addStream(gzip, source, progress);
    files.push({ path: source.path, size: source.size, sha256 });
    // Small files are read synchronously and their entries settle in microtasks: without a turn of
    // the event loop now and then, requests would wait behind hundreds of them on a cold disk.
    if (performance.now() - turn > TURN_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      turn = performance.now();
    }
  }
  const manifest: BackupManifest = { ...opts.header, files };
  await addBuffer(gzip, MANIFEST_PATH, Buffer.from(JSON.stringify(manifest)));
  await gzip.write(ZEROS);
  opts.onProgress?.(done);
  return manifest;
}

async function addBuffer(gzip: ParallelGzip, name: string, data: Buffer): Promise<void> {
  await gzip.write(fileHeader(name, data.length));
  await gzip.write(data);
  await gzip.write(ZEROS.subarray(0, padding(data.length)));
}

/** One file into the tar; a source that is not exactly `size` bytes is an error. */
async function addStream(
  gzip: ParallelGzip,
  source: ArchiveSource,
  progress: (n: number) => void,
): Promise<string> {
  const hash = createHash('sha256');
  let written = 0;
  const input = await source.open();
  await gzip.write(fileHeader(source.path, source.size));
  for await (const chunk of input as AsyncIterable<Buffer> | Iterable<Buffer>) {
    written += chunk.length;
    if (written > source.size) throw new Error(`${source.path} grew while it was being backed up`);
    hash.update(chunk);
    progress(chunk.length);
    await gzip.write(chunk);
  }
  if (written !== source.size) throw new Error(`${source.path} shrank while it was being backed up`);
  await gzip.write(ZEROS.subarray(0, padding(source.size)));
  return hash.digest('hex');
}

/** A destroyed write stream may have closed the descriptor already. */
function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
