// Reads a backup archive into a fresh staging directory and verifies it, refusing anything hostile
// before it is written: only regular files and directories, only paths inside the archive's layout,
// budgets on entries and bytes (a compression bomb stops at the first byte over), no duplicates, the
// header first (an archive from a newer PIC stops there) and every file against the manifest last.
// The staging directory is never trusted until unpack() returns; the caller deletes it on failure.
import { createHash } from 'node:crypto';
import { closeSync, constants, createReadStream, openSync, readSync } from 'node:fs';
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import {
  archivePath,
  BACKUP_FORMAT,
  type BackupHeader,
  type BackupManifest,
  backupHeaderSchema,
  backupManifestSchema,
  HEADER_PATH,
  MANIFEST_PATH,
  type UnpackLimits,
} from '../../schema/backup.ts';
import { AgeError, ageDecrypt } from './age-stream.ts';
import { YoungGc } from './young-gc.ts';

type TarEntry = AsyncIterable<Buffer> & { header: tar.Header };

export class ArchiveError extends Error {
  /** What the owner can act on: 'passphrase' when the key is wrong or missing, else 'archive'. */
  readonly field: 'passphrase' | 'archive';
  constructor(message: string, field: 'passphrase' | 'archive' = 'archive') {
    super(message);
    this.name = 'ArchiveError';
    this.field = field;
  }
}

const AGE_MAGIC = Buffer.from('age-encryption.org/v1\n');
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/** Where a file may sit in an archive (schema/backup.ts describes the layout). */
const ALLOWED = /^(db\/cell\.db|env\/\.env|data\/.+|config\/.+|volumes\/[a-z0-9-]+\/[a-z0-9_.-]+\/.+)$/;
/** Files up to this size are read whole and written while the next entries are read. */
const SMALL_FILE_BYTES = 256 * 1024;
/** At most this many small files, and bytes of them, are being written at once. */
const MAX_IN_FLIGHT = 8;
const MAX_IN_FLIGHT_BYTES = 4 * 1024 * 1024;
/** The small JSON files are read into memory: they must stay small. */
const MAX_JSON_BYTES = 64 * 1024 * 1024;

export type ArchiveKind = 'age' | 'gzip';

export function archiveKind(file: string): ArchiveKind {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(AGE_MAGIC.length);
    const n = readSync(fd, head, 0, head.length, 0);
    if (n === AGE_MAGIC.length && head.equals(AGE_MAGIC)) return 'age';
    if (n >= 2 && head.subarray(0, 2).equals(GZIP_MAGIC)) return 'gzip';
  } finally {
    closeSync(fd);
  }
  throw new ArchiveError('not a PIC backup: neither an age file nor a gzip archive');
}

export interface OpenedArchive {
  kind: ArchiveKind;
  /** The gzip bytes (decrypted as they are read when the archive is an age file). */
  gzip: Readable;
  close(): Promise<void>;
}

/**
 * Opens an archive; for an age file the header is checked with the passphrase first (a wrong one
 * fails here, before any byte is unpacked). Truncated or altered chunks fail later, while reading.
 */
export async function openArchive(file: string, passphrase: string | undefined): Promise<OpenedArchive> {
  const kind = archiveKind(file);
  if (kind === 'gzip') {
    const gzip = createReadStream(file);
    return { kind, gzip, close: async () => void gzip.destroy() };
  }
  if (passphrase === undefined)
    throw new ArchiveError('this backup is encrypted: give its passphrase', 'passphrase');
  try {
    const gzip = await ageDecrypt(file, { passphrase });
    return { kind, gzip, close: async () => void gzip.destroy() };
  } catch (err) {
    if (err instanceof AgeError)
      throw err.wrongKey
        ? new ArchiveError('the passphrase does not open this backup', 'passphrase')
        : new ArchiveError(`not a valid age file: ${err.message}`);
    throw err;
  }
}

export interface UnpackOptions {
  /** A fresh, empty directory (0700) this call may fill. */
  staging: string;
  limits: UnpackLimits;
  /** This PIC's version: an archive written by a newer one is refused. */
  picVersion: string;
  onProgress?: (bytesDone: number) => void;
}

export async function unpack(archive: OpenedArchive, opts: UnpackOptions): Promise<BackupManifest> {
  const state = new UnpackState(opts);
  const extract = tar.extract();
  const consume = (async () => {
    for await (const entry of extract) await state.entry(entry as unknown as TarEntry);
  })();
  try {
    await Promise.all([
      pipeline(
        archive.gzip,
        createGunzip({ chunkSize: 256 * 1024 }),
        budget(opts.limits.maxTotalBytes + 64 * 1024 * 1024),
        extract,
      ),
      consume,
    ]);
    await state.settle();
  } catch (err) {
    extract.destroy();
    // No write may still be creating files once the caller deletes the staging directory.
    await state.settle().catch(() => undefined);
    throw translate(err);
  }
  return state.verify();
}

/** Stops a decompression that yields more than `max` bytes (the tar budgets count only entry bodies). */
function budget(max: number): Transform {
  let seen = 0;
  const young = new YoungGc();
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      young.add(chunk.length);
      if (seen > max) cb(new ArchiveError('the archive unpacks to more than the size budget allows'));
      else cb(null, chunk);
    },
  });
}

function translate(err: unknown): Error {
  if (err instanceof ArchiveError) return err;
  // A system error (disk full, permissions) is this machine's, not the archive's: it stays as it is.
  // The ones an archive can cause are turned into ArchiveErrors where they happen (write below).
  if (isSystemError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  // zlib's codes, not its wording: 'incorrect data check' (a bad CRC) matched none of the words.
  if (code === 'Z_BUF_ERROR' || /unexpected end|premature|truncat/i.test(message))
    return new ArchiveError(`the archive is truncated: ${message}`);
  if (code === 'Z_DATA_ERROR' || /invalid tar header/i.test(message))
    return new ArchiveError(`the archive is damaged: ${message}`);
  // age's STREAM: a chunk whose tag fails. A cut file fails the same way as an altered one (the last
  // chunk is missing its final flag), and an interrupted copy is the likelier cause: say both.
  // Whole words only: 'tag' matched the 'staging' in any path a message carried.
  if (/\b(tag|tagLength|chunk|ciphertext|decrypt)\b/i.test(message))
    return new ArchiveError(`the archive is damaged, truncated or altered: ${message}`);
  return new ArchiveError(`the archive cannot be read: ${message}`);
}

function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  const e = err as { code?: unknown; syscall?: unknown } | null;
  return typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code) && typeof e.syscall === 'string';
}

class UnpackState {
  private header: BackupHeader | undefined;
  private manifest: BackupManifest | undefined;
  private readonly files = new Map<string, { size: number; sha256: string }>();
  private entries = 0;
  private total = 0;
  private readonly opts: UnpackOptions;

  constructor(opts: UnpackOptions) {
    this.opts = opts;
  }

  async entry(entry: TarEntry): Promise<void> {
    const { header: h } = entry;
    const name = h.name.replace(/\/+$/, '');
    this.entries += 1;
    if (this.entries > this.opts.limits.maxEntries)
      throw new ArchiveError(`the archive has more than ${this.opts.limits.maxEntries} entries`);
    if (this.manifest) throw new ArchiveError(`${show(name)} comes after the manifest, which must be last`);
    if (h.type !== 'file' && h.type !== 'directory')
      throw new ArchiveError(
        `${show(name)} is a ${h.type ?? 'special entry'}: only files and directories are restored`,
      );
    // The schema's archivePath, length included: a name the manifest could not list is refused here,
    // before it is written, not at the manifest after it was.
    if (!archivePath.safeParse(name).success)
      throw new ArchiveError(
        `${show(name)} is not a safe relative path (absolute, '..', odd characters or too long)`,
      );
    const size = h.size ?? 0;
    if (size > this.opts.limits.maxEntryBytes)
      throw new ArchiveError(`${show(name)} is larger than the budget for one file`);
    if (!this.header && name !== HEADER_PATH)
      throw new ArchiveError('the archive does not start with its header');
    if (h.type === 'directory') {
      await drain(entry);
      return;
    }
    if (name === HEADER_PATH || name === MANIFEST_PATH) {
      if (size > MAX_JSON_BYTES) throw new ArchiveError(`${name} is too large`);
      // A second header would silently replace the first: one archive, two identities.
      if ((name === HEADER_PATH && this.header) || (name === MANIFEST_PATH && this.manifest))
        throw new ArchiveError(`${show(name)} is in the archive twice`);
      const text = (await readAll(entry)).toString('utf8');
      if (name === HEADER_PATH) this.readHeader(text);
      else this.readManifest(text);
      return;
    }
    if (!ALLOWED.test(name)) throw new ArchiveError(`${show(name)} is outside the backup's layout`);
    if (this.files.has(name)) throw new ArchiveError(`${show(name)} is in the archive twice`);
    this.total += size;
    if (this.total > this.opts.limits.maxTotalBytes)
      throw new ArchiveError('the archive holds more bytes than the size budget allows');
    this.claim(name);
    this.files.set(name, { size, sha256: await this.write(name, entry, size) });
  }

  /** The files and the directories they sit in, as the entries come (writes run several at once). */
  private readonly claimedFiles = new Set<string>();
  private readonly claimedDirs = new Set<string>();

  /** A file where a directory is, or under a file: refused in the entries' order, naming the later one. */
  private claim(name: string): void {
    const parts = name.split('/');
    const ancestors = parts.slice(1, -1).map((_, i) => parts.slice(0, i + 2).join('/'));
    if (this.claimedDirs.has(name) || [parts[0]!, ...ancestors].some((a) => this.claimedFiles.has(a)))
      throw new ArchiveError(`${show(name)} clashes with another entry (a file and a directory of one name)`);
    this.claimedFiles.add(name);
    for (const a of ancestors) this.claimedDirs.add(a);
  }

  /** Directories made under staging so far (one mkdir each, not one per file). */
  private readonly dirs = new Set<string>();
  /** Small files being written on the thread pool while the next entries are read. */
  private readonly inFlight = new Set<Promise<void>>();
  private inFlightBytes = 0;
  private failed: unknown;

  /**
   * Writes one file under staging: O_EXCL and O_NOFOLLOW, so nothing there is ever followed or
   * replaced. Asynchronous (fs/promises on libuv's thread pool): the event loop never waits on the
   * disk. A small file is read whole and written while the next entries are read, a few at once
   * (creating a file costs ~0.7 ms on this disk: in sequence, a restore's time on many small files).
   */
  private async write(name: string, entry: TarEntry, size: number): Promise<string> {
    if (this.failed) throw this.failed;
    const hash = createHash('sha256');
    if (size <= SMALL_FILE_BYTES) {
      const data = await readAll(entry);
      hash.update(data);
      while (this.inFlight.size >= MAX_IN_FLIGHT || this.inFlightBytes + data.length > MAX_IN_FLIGHT_BYTES) {
        await Promise.race(this.inFlight);
        if (this.failed) throw this.failed;
      }
      this.inFlightBytes += data.length;
      const task: Promise<void> = this.writeSmall(name, data).then(
        () => {
          this.inFlight.delete(task);
          this.inFlightBytes -= data.length;
          this.progress(data.length);
        },
        (err: unknown) => {
          this.inFlight.delete(task);
          this.inFlightBytes -= data.length;
          this.failed ??= err;
        },
      );
      this.inFlight.add(task);
      return hash.digest('hex');
    }
    const handle = await this.create(name);
    try {
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        hash.update(chunk);
        for (let off = 0; off < chunk.length; )
          off += (await handle.write(chunk, off, chunk.length - off)).bytesWritten;
        this.progress(chunk.length);
      }
    } finally {
      await handle.close();
    }
    return hash.digest('hex');
  }

  private async writeSmall(name: string, data: Buffer): Promise<void> {
    const handle = await this.create(name);
    try {
      for (let off = 0; off < data.length; )
        off += (await handle.write(data, off, data.length - off)).bytesWritten;
    } finally {
      await handle.close();
    }
  }

  private async create(name: string): Promise<FileHandle> {
    const parts = name.split('/');
    const dir = join(this.opts.staging, ...parts.slice(0, -1));
    try {
      if (!this.dirs.has(dir)) {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        this.dirs.add(dir);
      }
      return await open(
        join(dir, parts.at(-1)!),
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o600,
      );
    } catch (err) {
      // What an archive can cause, said in its terms (the raw error names the staging path).
      const code = (err as { code?: unknown }).code;
      if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR')
        throw new ArchiveError(
          `${show(name)} clashes with another entry (a file and a directory of one name)`,
        );
      if (code === 'ENAMETOOLONG')
        throw new ArchiveError(`${show(name)} has a name too long for this file system`);
      throw err;
    }
  }

  /** Every write still running has ended (before verify(), and before a failed unpack returns). */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    if (this.failed) throw this.failed;
  }

  private done = 0;
  private reported = 0;
  private progress(n: number) {
    this.done += n;
    if (this.done - this.reported >= 1 << 20) {
      this.reported = this.done;
      this.opts.onProgress?.(this.done);
    }
  }

  private readHeader(text: string) {
    const header = parseJson(text, backupHeaderSchema, HEADER_PATH);
    if (header.format > BACKUP_FORMAT)
      throw new ArchiveError(
        `this backup uses archive format ${header.format}; this PIC reads up to ${BACKUP_FORMAT}: update PIC first`,
      );
    if (compareVersions(header.pic_version, this.opts.picVersion) > 0)
      throw new ArchiveError(
        `this backup was written by PIC ${header.pic_version}, newer than this one (${this.opts.picVersion}): update PIC first`,
      );
    this.header = header;
  }

  private readManifest(text: string) {
    this.manifest = parseJson(text, backupManifestSchema, MANIFEST_PATH);
  }

  /** Every file in the manifest is here with its size and hash, and nothing else is. */
  verify(): BackupManifest {
    const { header, manifest } = this;
    if (!header) throw new ArchiveError('the archive is empty');
    if (!manifest) throw new ArchiveError('the archive has no manifest: it is incomplete');
    for (const key of ['format', 'pic_version', 'created_at', 'backup_id'] as const)
      if (manifest[key] !== header[key])
        throw new ArchiveError(`the manifest's ${key} does not match the header's`);
    const listed = new Set<string>();
    for (const f of manifest.files) {
      if (listed.has(f.path)) throw new ArchiveError(`the manifest lists ${show(f.path)} twice`);
      listed.add(f.path);
      const got = this.files.get(f.path);
      if (!got) throw new ArchiveError(`${show(f.path)} is in the manifest but not in the archive`);
      if (got.size !== f.size || got.sha256 !== f.sha256)
        throw new ArchiveError(`${show(f.path)} does not match the manifest (altered or damaged)`);
    }
    for (const path of this.files.keys())
      if (!listed.has(path))
        throw new ArchiveError(`${show(path)} is in the archive but not in the manifest`);
    this.opts.onProgress?.(this.done);
    return manifest;
  }
}

function parseJson<T>(
  text: string,
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } },
  name: string,
): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ArchiveError(`${name} is not valid JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new ArchiveError(`${name} is not a PIC backup ${name === HEADER_PATH ? 'header' : 'manifest'}`);
  return parsed.data;
}

/** Compares dotted numeric versions (1.10.0 > 1.9.3); anything after a '-' is ignored. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) =>
    v
      .split('-')[0]!
      .split('.')
      .map((n) => Number.parseInt(n, 10) || 0);
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Names in errors: printable and short, whatever the archive put there. */
function show(name: string): string {
  return JSON.stringify(name.length > 120 ? `${name.slice(0, 120)}…` : name);
}

async function drain(entry: TarEntry): Promise<void> {
  for await (const _ of entry as AsyncIterable<Buffer>) {
    // directories carry no content; anything here is discarded
  }
}

async function readAll(entry: TarEntry): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of entry as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}
