// The backups directory (data/backups, 0700): one file per backup, named by its id, 0600. Ids are
// matched against BACKUP_ID_PATTERN before any path is built, so no request names another file.
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BACKUP_ID_PATTERN, type BackupListItem } from '../../schema/backup.ts';
import { fsyncDir } from '../atomic-file.ts';
import { PARTIAL_MARK } from './archive-writer.ts';

const FILE_PATTERN = /^(backup-\d{8}-\d{6}-[0-9a-f]{6})\.tar\.gz(\.age)?$/;

export class UploadRefused extends Error {
  readonly tooLarge: boolean;
  constructor(message: string, tooLarge = false) {
    super(message);
    this.name = 'UploadRefused';
    this.tooLarge = tooLarge;
  }
}

export class BackupFiles {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  }

  /** backup-20261203-141500-a1b2c3: the time (UTC) and 24 random bits. */
  static newId(now: Date = new Date()): string {
    const iso = now.toISOString();
    const stamp = `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}`;
    return `backup-${stamp}-${randomBytes(3).toString('hex')}`;
  }

  /** Where a new backup goes; `encrypted` picks the name age readers expect. */
  target(id: string, encrypted: boolean): string {
    return join(this.dir, `${checked(id)}.tar.gz${encrypted ? '.age' : ''}`);
  }

  list(): BackupListItem[] {
    const out: BackupListItem[] = [];
    for (const file of readdirSync(this.dir)) {
      const m = FILE_PATTERN.exec(file);
      if (!m) continue;
      const st = statSync(join(this.dir, file));
      out.push({
        backup_id: m[1]!,
        file,
        size: st.size,
        created_at: createdAt(m[1]!) ?? st.mtime.toISOString(),
        encrypted: m[2] !== undefined,
      });
    }
    return out.sort((a, b) => b.backup_id.localeCompare(a.backup_id));
  }

  get(id: string): BackupListItem | undefined {
    if (!BACKUP_ID_PATTERN.test(id)) return undefined;
    return this.list().find((b) => b.backup_id === id);
  }

  path(id: string): string | undefined {
    const item = this.get(id);
    return item ? join(this.dir, item.file) : undefined;
  }

  open(id: string): { stream: Readable; size: number; file: string } | undefined {
    const item = this.get(id);
    if (!item) return undefined;
    return { stream: createReadStream(join(this.dir, item.file)), size: item.size, file: item.file };
  }

  remove(id: string): boolean {
    const path = this.path(id);
    if (!path) return false;
    unlinkSync(path);
    fsyncDir(this.dir);
    return true;
  }

  /**
   * Stores an uploaded archive under a new id: streamed to a temp file, refused past `maxBytes` or
   * when it is neither an age file nor a gzip archive, renamed into place only when complete.
   */
  async upload(body: Readable, maxBytes: number, now: Date = new Date()): Promise<string> {
    const id = BackupFiles.newId(now);
    const temp = join(this.dir, `${id}${PARTIAL_MARK}${randomBytes(4).toString('hex')}`);
    try {
      await receive(body, temp, maxBytes);
      const fd = openSync(temp, 'r');
      try {
        fsyncSync(fd);
        const kind = magic(fd);
        if (!kind) throw new UploadRefused('not a PIC backup: neither an age file nor a gzip archive');
        renameSync(temp, this.target(id, kind === 'age'));
      } finally {
        closeSync(fd);
      }
      fsyncDir(this.dir);
      return id;
    } catch (err) {
      if (existsSync(temp)) unlinkSync(temp);
      throw err;
    }
  }

  /** Temp files of a backup or upload that stopped (a crash, a kill -9): removed at start. */
  sweepPartial(): string[] {
    const gone: string[] = [];
    for (const file of readdirSync(this.dir)) {
      if (!file.includes(PARTIAL_MARK)) continue;
      unlinkSync(join(this.dir, file));
      gone.push(file);
    }
    return gone;
  }
}

/**
 * Copies the body to a new file, stopping at the first byte over `maxBytes`. On a refusal the body is
 * left paused, not destroyed: the server answers (413) and drops the rest with the connection.
 */
function receive(body: Readable, path: string, maxBytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(path, { flags: 'wx', mode: 0o600 });
    let bytes = 0;
    let failed = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      body.pause();
      body.removeAllListeners('data');
      out.destroy();
      out.once('close', () => reject(err));
    };
    body.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes)
        return fail(new UploadRefused(`the upload is larger than ${maxBytes} bytes`, true));
      if (!out.write(chunk)) {
        body.pause();
        out.once('drain', () => body.resume());
      }
    });
    body.once('end', () => {
      if (!failed) out.end();
    });
    body.once('error', fail);
    out.once('error', fail);
    out.once('finish', () => {
      if (!failed) resolve();
    });
  });
}

function checked(id: string): string {
  if (!BACKUP_ID_PATTERN.test(id)) throw new Error(`not a backup id: ${JSON.stringify(id)}`);
  return id;
}

function createdAt(id: string): string | undefined {
  const m = /^backup-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-/.exec(id);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z` : undefined;
}

function magic(fd: number): 'age' | 'gzip' | undefined {
  const head = Buffer.alloc(22);
  const n = readSync(fd, head, 0, head.length, 0);
  if (n === 22 && head.toString('latin1') === 'age-encryption.org/v1\n') return 'age';
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  return undefined;
}
