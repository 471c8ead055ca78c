// A size-rotated append-only log file: <name>.log, then <name>.log.1 … <name>.log.<keep>. Rotation
// renames synchronously so no line is split across files.
//
// Lines are buffered in memory and written in one batch: a request log line is written on every
// API request, and a write(2) per line cost ~12 % of the API's CPU under load. The buffer is written
// when it passes BATCH_BYTES, by a timer at most FLUSH_MS after its first line, by flush() (the
// registry calls it before reading files back, on close and on process exit, and at once for
// warn-and-above lines), so a crash that skips the exit hook (SIGKILL, power loss) loses at most the
// last FLUSH_MS of lines. Audit rows do not go through here: they are SQLite rows, durable at once.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

export const MAX_BYTES = 5 * 1024 * 1024;
export const KEEP = 5;
/** Longest a buffered line waits before it reaches the file. */
export const FLUSH_MS = 100;
const BATCH_BYTES = 64 * 1024;

export class RotatingFile {
  readonly path: string;
  readonly #maxBytes: number;
  readonly #keep: number;
  readonly #flushMs: number;
  #fd: number;
  #size: number;
  /** Lines not yet written, with their byte lengths (rotation is decided per line). */
  #pending: string[] = [];
  #pendingLengths: number[] = [];
  #pendingBytes = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(path: string, maxBytes = MAX_BYTES, keep = KEEP, flushMs = FLUSH_MS) {
    this.path = path;
    this.#maxBytes = maxBytes;
    this.#keep = keep;
    this.#flushMs = flushMs;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.#fd = openSync(path, 'a', 0o600);
    this.#size = statSync(path).size;
  }

  /** pino destination interface: buffers the line (see the header). */
  write(line: string): boolean {
    const bytes = Buffer.byteLength(line);
    this.#pending.push(line);
    this.#pendingLengths.push(bytes);
    this.#pendingBytes += bytes;
    if (this.#pendingBytes >= BATCH_BYTES) this.flush();
    else if (!this.#timer) {
      this.#timer = setTimeout(() => this.flush(), this.#flushMs);
      this.#timer.unref(); // a pending flush never keeps the process alive; the exit hook writes it
    }
    return true;
  }

  /** Writes every buffered line now, rotating before a line that would cross the size limit. */
  flush(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#pending.length === 0) return;
    const lines = this.#pending;
    const lengths = this.#pendingLengths;
    this.#pending = [];
    this.#pendingLengths = [];
    this.#pendingBytes = 0;
    let batch = '';
    let batchBytes = 0;
    for (let i = 0; i < lines.length; i++) {
      const bytes = lengths[i]!;
      if (this.#size + batchBytes + bytes > this.#maxBytes && this.#size + batchBytes > 0) {
        if (batch) writeSync(this.#fd, batch);
        this.#rotate();
        batch = '';
        batchBytes = 0;
      }
      batch += lines[i];
      batchBytes += bytes;
    }
    if (batch) writeSync(this.#fd, batch);
    this.#size += batchBytes;
  }

  #rotate(): void {
    closeSync(this.#fd);
    const oldest = `${this.path}.${this.#keep}`;
    if (existsSync(oldest)) unlinkSync(oldest);
    for (let i = this.#keep - 1; i >= 1; i--) {
      const from = `${this.path}.${i}`;
      if (existsSync(from)) renameSync(from, `${this.path}.${i + 1}`);
    }
    renameSync(this.path, `${this.path}.1`);
    this.#fd = openSync(this.path, 'a', 0o600);
    this.#size = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.#fd);
  }
}
