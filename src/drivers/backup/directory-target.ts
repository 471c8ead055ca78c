// A backup target that is a directory (a mounted disk, a NAS share): each archive is written to a
// temp name (0600, created exclusively), fsynced, renamed into place and the directory fsynced, so a
// crash or a full disk never leaves a partial archive under a backup's name. The directory must
// exist: an unmounted disk must fail, not fill the root filesystem under its mount point.
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { BackupTarget } from '../../core/ports/backup-target.ts';
import { TARGET_OBJECT_NAME } from '../../schema/backup-schedule.ts';

const TEMP_MARK = '.pic-tmp-';
/** A temp file this old is a crash's leftover (an upload in progress writes to its file all along). */
const STALE_TEMP_MS = 6 * 60 * 60_000;

function checkName(name: string): void {
  if (!TARGET_OBJECT_NAME.test(name)) throw new Error('refused an object name the scheduler does not write');
}

/** A file-system error as a short reason naming the directory (the owner's own path, no secret). */
function reason(err: unknown, dir: string): Error {
  const code = (err as { code?: string }).code;
  const why: Record<string, string> = {
    ENOENT: `${dir} does not exist (is the disk mounted? under Docker, ./pic up on the host mounts it into cell-api)`,
    ENOTDIR: `${dir} is not a directory`,
    EACCES: `cell-api may not write to ${dir} (it runs as uid 1000: on the host, chown 1000 ${dir})`,
    EPERM: `cell-api may not write to ${dir} (it runs as uid 1000: on the host, chown 1000 ${dir})`,
    EROFS: `${dir} is on a read-only file system`,
    ENOSPC: `no space left in ${dir}`,
    EDQUOT: `the disk quota is exhausted in ${dir}`,
  };
  if (code && why[code]) return new Error(why[code]);
  if (code) return new Error(`could not write to ${dir} (${code})`);
  return err instanceof Error ? err : new Error('the copy failed');
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function requireDirectory(dir: string, shown: string): Promise<void> {
  try {
    if (!(await stat(dir)).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' });
  } catch (err) {
    throw reason(err, shown);
  }
}

/** Removes temp files a crash left behind (old ones only: another upload may be writing its own). */
async function sweep(dir: string, now: number): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (!e.isFile() || !e.name.startsWith(TEMP_MARK)) continue;
    const path = join(dir, e.name);
    const st = await stat(path).catch(() => undefined);
    if (st && now - st.mtimeMs > STALE_TEMP_MS) await rm(path, { force: true });
  }
}

/**
 * `dir` is where this process writes; `shown` is the path errors name (the host path the owner
 * entered, when `dir` is its mount inside cell-api).
 */
export function directoryTarget(dir: string, shown: string = dir): BackupTarget {
  return {
    async put(name: string, stream: Readable, size: number) {
      checkName(name);
      await requireDirectory(dir, shown);
      await sweep(dir, Date.now()).catch(() => {});
      const temp = join(dir, `${TEMP_MARK}${name}.${randomBytes(6).toString('hex')}`);
      let fh: Awaited<ReturnType<typeof open>> | undefined;
      try {
        fh = await open(temp, 'wx', 0o600);
        let written = 0;
        for await (const chunk of stream) {
          const bytes: Buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
          written += bytes.length;
          if (written > size) throw new Error(`the backup is longer than its ${size} bytes`);
          for (let off = 0; off < bytes.length; )
            off += (await fh.write(bytes, off, bytes.length - off)).bytesWritten;
        }
        if (written !== size) throw new Error(`the backup ended after ${written} of ${size} bytes`);
        await fh.sync();
        await fh.close();
        fh = undefined;
        await rename(temp, join(dir, name));
        await fsyncDir(dir);
      } catch (err) {
        await fh?.close().catch(() => {});
        await rm(temp, { force: true }).catch(() => {});
        throw reason(err, shown);
      }
    },

    async list() {
      await requireDirectory(dir, shown);
      const out = [];
      for (const e of await readdir(dir, { withFileTypes: true })) {
        if (!e.isFile() || !TARGET_OBJECT_NAME.test(e.name)) continue;
        const st = await stat(join(dir, e.name)).catch(() => undefined);
        if (st) out.push({ name: e.name, size: st.size });
      }
      return out.sort((a, b) => (a.name < b.name ? -1 : 1));
    },

    async remove(name: string) {
      checkName(name);
      try {
        await rm(join(dir, name), { force: true });
      } catch (err) {
        throw reason(err, shown);
      }
    },
  };
}
