// The files service's volume as cell-api sees it (data/services/files/data, mounted into cell-api at
// its host path; ADR 0010): every operation of the UI's file browser, inside one account's folder.
//   - Paths arrive as validated segments (schema/files.ts); each component is lstat'ed on the way
//     down and a symlink anywhere is refused, never followed.
//   - A folder is then opened with O_DIRECTORY|O_NOFOLLOW and the kernel's own name for the open
//     descriptor (/proc/self/fd/N) must be the path we walked: a component swapped for a symlink
//     between the lstat and the open is caught. The entry itself is reached through that descriptor
//     (/proc/self/fd/N/<name>, like openat), and files are opened with O_NOFOLLOW.
//   - Uploads stream into a temp file in the volume's tmp/ (same file system), given to the owner the
//     service writes as, flushed, then linked into place (no overwrite: link fails on an existing
//     name) or renamed over the old file (overwrite). A refused or broken upload leaves nothing.
import { randomBytes } from 'node:crypto';
import { constants, type Dirent, promises as fsp, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { AppError } from '../../core/errors.ts';
import type { FilesTarget, FilesVolumePort, UploadBudget } from '../../core/ports/files.ts';
import { type FileEntry, nameProblem } from '../../schema/files.ts';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;
/** The files service's account pattern (images/store/files/account.sh), checked again here. */
const ACCOUNT = /^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$/;

export interface FilesVolumeOptions {
  /** The volume's directory on this machine (the service's /srv/files). */
  root: string;
  /** Who the service's workers write as (pic-files, 1000:1000): owner of what is created here. */
  owner: { uid: number; gid: number };
}

const show = (segments: readonly string[]) => `/${segments.join('/')}`;

function refused(code: AppError['code'], t: FilesTarget, message: string, upTo = t.segments.length) {
  return new AppError(code, `${t.field} ${show(t.segments.slice(0, upTo))}: ${message}`, {
    fields: [{ field: t.field, message }],
  });
}
const symlink = (t: FilesTarget, upTo?: number) =>
  refused('validation_failed', t, 'is a symbolic link, which the file browser never follows', upTo);

/** An errno from the file system as the API's answer (never a 500 for a user's mistake). */
function mapped(err: unknown, t: FilesTarget): unknown {
  if (err instanceof AppError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return refused('not_found', t, 'does not exist');
  if (code === 'EEXIST' || code === 'ENOTEMPTY') return refused('conflict', t, 'already exists');
  if (code === 'ELOOP') return symlink(t);
  if (code === 'ENOTDIR') return refused('validation_failed', t, 'is not a folder');
  if (code === 'EISDIR') return refused('validation_failed', t, 'is a folder');
  if (code === 'ENAMETOOLONG') return refused('validation_failed', t, 'is too long');
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new AppError('insufficient_storage', "The cell's disk is full");
  if (code === 'EACCES' || code === 'EPERM')
    return new AppError(
      'unavailable',
      'The files volume cannot be used right now (it is prepared when the Files service starts)',
    );
  return err;
}

/**
 * Copies the body into the file while the budget allows. On a refusal the body is left paused, not
 * destroyed: the server answers 507 and drops the rest with the connection (a destroyed request
 * would take the socket, and the answer, with it).
 */
function receive(body: Readable, fh: FileHandle, budget: UploadBudget, t: FilesTarget): Promise<void> {
  return new Promise((resolve, reject) => {
    // flush: fsync before the stream closes the file (a crash after the rename keeps the bytes).
    const out = fh.createWriteStream({ flush: true });
    let failed = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      body.pause();
      body.removeAllListeners('data');
      out.destroy();
      reject(err);
    };
    body.on('data', (chunk: Buffer) => {
      if (!budget.take(chunk.length))
        return fail(
          new AppError(
            'insufficient_storage',
            `Over quota: ${show(t.segments)} does not fit in what is left of the account's space`,
          ),
        );
      if (!out.write(chunk)) {
        body.pause();
        out.once('drain', () => body.resume());
      }
    });
    body.once('end', () => {
      if (!failed) out.end();
    });
    body.once('error', fail);
    body.once('close', () => {
      if (!body.readableEnded) fail(new AppError('bad_request', 'The upload was interrupted'));
    });
    out.once('error', fail);
    out.once('close', () => {
      if (!failed) resolve();
    });
  });
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await fsp.lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function entryOf(name: string, st: Stats): FileEntry {
  return {
    name,
    type: st.isDirectory() ? 'folder' : 'file',
    size: st.isDirectory() ? 0 : st.size,
    modified: st.mtime.toISOString(),
  };
}

/** An open folder, reached by the walk and checked by the kernel's name for its descriptor. */
class OpenDir {
  readonly fh: FileHandle;
  constructor(fh: FileHandle) {
    this.fh = fh;
  }
  get at(): string {
    return `/proc/self/fd/${this.fh.fd}`;
  }
  child(name: string): string {
    return `${this.at}/${name}`;
  }
  close(): Promise<void> {
    return this.fh.close().catch(() => undefined);
  }
}

export class FilesVolume implements FilesVolumePort {
  readonly #o: FilesVolumeOptions;
  readonly #asRoot = process.geteuid?.() === 0;

  constructor(opts: FilesVolumeOptions) {
    this.#o = opts;
  }

  async hasFolder(account: string): Promise<boolean> {
    try {
      await this.#accountDir(account);
      return true;
    } catch (err) {
      if (err instanceof AppError && err.code === 'not_found') return false;
      throw err;
    }
  }

  async list(account: string, folder: FilesTarget): Promise<FileEntry[]> {
    return this.#inDir(account, folder, folder.segments, async (dir) => {
      const out: FileEntry[] = [];
      const names = await fsp.readdir(dir.at, { withFileTypes: true });
      for (const d of names as Dirent[]) {
        // Only files and folders with names the browser can act on; symlinks and others are not shown.
        if (!(d.isFile() || d.isDirectory()) || nameProblem(d.name)) continue;
        const st = await lstatOrUndefined(dir.child(d.name));
        if (st && (st.isFile() || st.isDirectory())) out.push(entryOf(d.name, st));
      }
      return out.sort((a, b) =>
        a.type === b.type ? a.name.localeCompare(b.name) : a.type === 'folder' ? -1 : 1,
      );
    });
  }

  async stat(account: string, t: FilesTarget): Promise<FileEntry> {
    return this.#inParent(account, t, async (dir, name) => entryOf(name, await this.#existing(dir, name, t)));
  }

  async openRead(account: string, t: FilesTarget): Promise<{ stream: Readable; size: number; name: string }> {
    return this.#inParent(account, t, async (dir, name) => {
      const st = await this.#existing(dir, name, t);
      if (!st.isFile()) throw refused('validation_failed', t, 'is not a file');
      // O_NONBLOCK: a FIFO put there in a race cannot hold the request (a regular file ignores it).
      const fh = await fsp.open(dir.child(name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
      try {
        const fst = await fh.stat();
        if (!fst.isFile() || fst.ino !== st.ino) throw refused('conflict', t, 'changed while it was opened');
        return { stream: fh.createReadStream(), size: fst.size, name };
      } catch (err) {
        await fh.close().catch(() => undefined);
        throw err;
      }
    });
  }

  async write(
    account: string,
    t: FilesTarget,
    body: Readable,
    opts: { overwrite: boolean; budget: UploadBudget },
  ): Promise<FileEntry> {
    const tmpDir = await this.#tmpDir();
    return this.#inParent(account, t, async (dir, name) => {
      const old = await lstatOrUndefined(dir.child(name));
      if (old?.isSymbolicLink()) throw symlink(t);
      if (old?.isDirectory()) throw refused('conflict', t, 'is a folder');
      if (old && !opts.overwrite) throw refused('conflict', t, 'already exists');
      const temp = join(tmpDir, `.pic-upload-${randomBytes(9).toString('hex')}`);
      const fh = await fsp.open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
      try {
        if (this.#asRoot) await fh.chown(this.#o.owner.uid, this.#o.owner.gid);
        await receive(body, fh, opts.budget, t);
        if (opts.overwrite) await fsp.rename(temp, dir.child(name));
        else {
          // link() never replaces: a file of this name made meanwhile (over WebDAV) is kept.
          await fsp.link(temp, dir.child(name));
          await fsp.unlink(temp);
        }
        await dir.fh.sync();
        return entryOf(name, await this.#existing(dir, name, t));
      } finally {
        await fh.close().catch(() => undefined);
        await fsp.unlink(temp).catch(() => undefined);
      }
    });
  }

  async mkdir(account: string, t: FilesTarget): Promise<FileEntry> {
    return this.#inParent(account, t, async (dir, name) => {
      await fsp.mkdir(dir.child(name), { mode: 0o700 });
      if (this.#asRoot) await fsp.lchown(dir.child(name), this.#o.owner.uid, this.#o.owner.gid);
      await dir.fh.sync();
      return entryOf(name, await this.#existing(dir, name, t));
    });
  }

  async move(account: string, from: FilesTarget, to: FilesTarget): Promise<FileEntry> {
    return this.#inParent(account, from, (src, srcName) =>
      this.#inParent(account, to, async (dst, dstName) => {
        const st = await this.#existing(src, srcName, from);
        if (await lstatOrUndefined(dst.child(dstName))) throw refused('conflict', to, 'already exists');
        const inside =
          to.segments.length > from.segments.length && from.segments.every((s, i) => to.segments[i] === s);
        if (st.isDirectory() && inside)
          throw refused('validation_failed', to, 'is inside the folder being moved');
        if (st.isDirectory()) await fsp.rename(src.child(srcName), dst.child(dstName));
        else {
          await fsp.link(src.child(srcName), dst.child(dstName));
          await fsp.unlink(src.child(srcName));
        }
        await src.fh.sync();
        await dst.fh.sync();
        return entryOf(dstName, await this.#existing(dst, dstName, to));
      }),
    );
  }

  async remove(account: string, t: FilesTarget, recursive: boolean): Promise<void> {
    await this.#inParent(account, t, async (dir, name) => {
      const st = await this.#existing(dir, name, t);
      if (!st.isDirectory()) await fsp.unlink(dir.child(name));
      else if (recursive) await fsp.rm(dir.child(name), { recursive: true });
      else
        await fsp.rmdir(dir.child(name)).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOTEMPTY' || err.code === 'EEXIST')
            throw new AppError(
              'conflict',
              `${show(t.segments)} is not empty: delete it with recursive=true`,
              {
                fields: [
                  { field: 'recursive', message: 'must be true to delete a folder that is not empty' },
                ],
              },
            );
          throw err;
        });
      await dir.fh.sync();
    });
  }

  async usage(account: string): Promise<number> {
    const top = await this.#accountDir(account);
    const dev = (await fsp.lstat(top)).dev;
    let total = 0;
    const stack = [top];
    while (stack.length > 0) {
      const dir = stack.pop()!;
      let names: Dirent[];
      try {
        names = (await fsp.readdir(dir, { withFileTypes: true })) as Dirent[];
      } catch {
        continue; // gone meanwhile, or unreadable
      }
      for (const d of names) {
        const p = join(dir, d.name);
        const st = await lstatOrUndefined(p).catch(() => undefined);
        if (!st || st.dev !== dev) continue;
        if (st.isFile()) total += st.size;
        else if (st.isDirectory()) stack.push(p);
      }
    }
    return total;
  }

  async quotaMb(): Promise<number | undefined> {
    let fh: FileHandle | undefined;
    try {
      fh = await fsp.open(join(await this.#root(), 'settings.json'), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
      const buf = Buffer.alloc(256);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      const m = /^\{"quota_mb":(\d{1,7})\}\n?$/.exec(buf.subarray(0, bytesRead).toString('utf8'));
      return m ? Number(m[1]) : undefined;
    } catch {
      return undefined;
    } finally {
      await fh?.close().catch(() => undefined);
    }
  }

  // --- the walk ---

  async #root(): Promise<string> {
    try {
      return await fsp.realpath(this.#o.root);
    } catch {
      throw new AppError('unavailable', 'The files volume is not there: install the Files service first');
    }
  }

  /** The account's folder: users/<account>, both real directories. */
  async #accountDir(account: string): Promise<string> {
    if (!ACCOUNT.test(account)) throw new AppError('not_found', `No folder for ${JSON.stringify(account)}`);
    const root = await this.#root();
    for (const p of [join(root, 'users'), join(root, 'users', account)]) {
      const st = await lstatOrUndefined(p).catch((err: unknown) => {
        throw mapped(err, { segments: [], field: 'account' });
      });
      if (!st?.isDirectory() || st.isSymbolicLink())
        throw new AppError('not_found', `${account} has no folder on the Files service yet`);
    }
    return join(root, 'users', account);
  }

  async #tmpDir(): Promise<string> {
    const tmp = join(await this.#root(), 'tmp');
    const st = await lstatOrUndefined(tmp);
    if (!st?.isDirectory() || st.isSymbolicLink())
      throw new AppError(
        'unavailable',
        'The files volume has no tmp/ folder (the Files service makes it at start)',
      );
    return tmp;
  }

  /** Opens the folder at `segments` (lstat of every component, then the descriptor's own name checked). */
  async #openDir(account: string, t: FilesTarget, segments: readonly string[]): Promise<OpenDir> {
    let path = await this.#accountDir(account);
    for (const [i, s] of segments.entries()) {
      path = join(path, s);
      const st = await lstatOrUndefined(path);
      if (!st) throw refused('not_found', t, 'does not exist', i + 1);
      if (st.isSymbolicLink()) throw symlink(t, i + 1);
      if (!st.isDirectory()) throw refused('validation_failed', t, 'is not a folder', i + 1);
    }
    const fh = await fsp.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    const dir = new OpenDir(fh);
    try {
      if ((await fsp.readlink(dir.at)) !== path) throw symlink(t, segments.length);
      return dir;
    } catch (err) {
      await dir.close();
      throw err;
    }
  }

  async #inDir<T>(
    account: string,
    t: FilesTarget,
    segments: readonly string[],
    fn: (dir: OpenDir) => Promise<T>,
  ): Promise<T> {
    let dir: OpenDir | undefined;
    try {
      dir = await this.#openDir(account, t, segments);
      return await fn(dir);
    } catch (err) {
      throw mapped(err, t);
    } finally {
      await dir?.close();
    }
  }

  /** Runs fn with the entry's parent folder open and the entry's name. */
  #inParent<T>(account: string, t: FilesTarget, fn: (dir: OpenDir, name: string) => Promise<T>): Promise<T> {
    const name = t.segments.at(-1);
    if (name === undefined) throw refused('validation_failed', t, 'must name a file or folder');
    return this.#inDir(account, t, t.segments.slice(0, -1), (dir) => fn(dir, name));
  }

  async #existing(dir: OpenDir, name: string, t: FilesTarget): Promise<Stats> {
    const st = await lstatOrUndefined(dir.child(name));
    if (!st) throw refused('not_found', t, 'does not exist');
    if (st.isSymbolicLink()) throw symlink(t);
    if (!st.isFile() && !st.isDirectory()) throw refused('validation_failed', t, 'is not a file or folder');
    return st;
  }
}
