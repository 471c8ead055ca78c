// A size-rotated append-only log file: <name>.log, then <name>.log.1 … <name>.log.<keep>. Rotation
// renames synchronously so no line is split across files.
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

export class RotatingFile {
  readonly path: string;
  readonly #maxBytes: number;
  readonly #keep: number;
  #fd: number;
  #size: number;

  constructor(path: string, maxBytes = MAX_BYTES, keep = KEEP) {
    this.path = path;
    this.#maxBytes = maxBytes;
    this.#keep = keep;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.#fd = openSync(path, 'a', 0o600);
    this.#size = statSync(path).size;
  }

  /** pino destination interface. */
  write(line: string): boolean {
    const bytes = Buffer.from(line);
    if (this.#size + bytes.length > this.#maxBytes && this.#size > 0) this.#rotate();
    writeSync(this.#fd, bytes);
    this.#size += bytes.length;
    return true;
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
    closeSync(this.#fd);
  }
}
