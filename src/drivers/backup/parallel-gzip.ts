// gzip on several of libuv's threads at once, as pigz does: the input is cut into blocks, each
// deflated on its own with the previous block's last 32 KiB as its dictionary (so the output is
// about as small as one stream's) and ended with a sync flush (byte-aligned, not final), so that the
// pieces join into one deflate stream; the last block finishes it. The CRC-32 runs over the input in
// order on the event loop (zlib.crc32). The result is one ordinary gzip member.
//
// Why: deflate is most of a backup's CPU; one zlib stream keeps one core busy while the other idles
// (GNU gzip in `tar -cz` has the same limit). Input is copied into a few reused block buffers, so a
// caller may reuse its buffer as soon as `write` resolves.
import { availableParallelism } from 'node:os';
import { Readable } from 'node:stream';
import { constants, crc32, createDeflateRaw } from 'node:zlib';

export interface ParallelGzipOptions {
  /** zlib's level (default 6, gzip's). */
  level?: number;
  /** Input bytes per block (default 1 MiB). */
  blockSize?: number;
  /** Blocks deflated at once (default: the cores, 2 to 4). */
  inFlight?: number;
}

const WINDOW = 32 * 1024;
const OUT_CHUNK = 256 * 1024;
/** Node's own gzip header: deflate, no flags, time 0, OS Unix. */
const HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);

interface Job {
  block: Buffer;
  done: Promise<Buffer[]>;
}

export class ParallelGzip extends Readable {
  private readonly level: number;
  private readonly blockSize: number;
  private readonly inFlight: number;
  private readonly free: Buffer[] = [];
  private readonly queue: Job[] = [];
  private block: Buffer;
  private used = 0;
  private dictionary: Buffer | undefined;
  private crc = 0;
  private size = 0;
  private wanted: (() => void) | undefined;

  constructor(opts: ParallelGzipOptions = {}) {
    super({ highWaterMark: 1024 * 1024 });
    this.level = opts.level ?? 6;
    this.blockSize = opts.blockSize ?? 1024 * 1024;
    this.inFlight = opts.inFlight ?? Math.min(4, Math.max(2, availableParallelism()));
    this.block = Buffer.allocUnsafe(this.blockSize);
    this.push(HEADER);
  }

  /** Copies `data` in; resolves once there is room for more (the blocks ahead are not too many). */
  async write(data: Uint8Array): Promise<void> {
    for (let at = 0; at < data.length; ) {
      const n = Math.min(this.blockSize - this.used, data.length - at);
      this.block.set(data.subarray(at, at + n), this.used);
      this.used += n;
      at += n;
      if (this.used === this.blockSize) await this.dispatch(false);
    }
  }

  /** The last block, every block's output in order, then the trailer (CRC-32, size mod 2³²). */
  async end(): Promise<void> {
    await this.dispatch(true);
    while (this.queue.length) await this.emitHead();
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.crc >>> 0, 0);
    trailer.writeUInt32LE(this.size % 2 ** 32, 4);
    this.push(trailer);
    this.push(null);
  }

  override _read(): void {
    const wake = this.wanted;
    this.wanted = undefined;
    wake?.();
  }

  private async dispatch(last: boolean): Promise<void> {
    this.throwIfDestroyed();
    const input = this.block.subarray(0, this.used);
    this.crc = crc32(input, this.crc);
    this.size += input.length;
    this.queue.push({ block: this.block, done: deflate(input, this.dictionary, last, this.level) });
    // A copy: the block goes back to the pool once deflated, before the next block's stream starts.
    this.dictionary = Buffer.from(tail(this.dictionary, input));
    this.block = this.free.pop() ?? Buffer.allocUnsafe(this.blockSize);
    this.used = 0;
    while (this.queue.length >= this.inFlight) await this.emitHead();
  }

  /** Waits for the oldest block, pushes its output, and waits for the reader when it is behind. */
  private async emitHead(): Promise<void> {
    const job = this.queue.shift();
    if (!job) return;
    const out = await job.done;
    this.free.push(job.block);
    this.throwIfDestroyed();
    for (const chunk of out) this.push(chunk);
    while (this.readableLength >= this.readableHighWaterMark && !this.destroyed)
      await new Promise<void>((resolve) => {
        this.wanted = resolve;
      });
  }

  private throwIfDestroyed(): void {
    if (this.destroyed) throw this.errored ?? new Error('the gzip stream was closed');
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this._read();
    cb(err);
  }
}

/** The last 32 KiB of what came before and this block (a block may be shorter than the window). */
function tail(previous: Buffer | undefined, input: Buffer): Buffer {
  if (input.length >= WINDOW || !previous) return input.subarray(Math.max(0, input.length - WINDOW));
  const joined = Buffer.concat([previous, input]);
  return joined.subarray(Math.max(0, joined.length - WINDOW));
}

function deflate(input: Buffer, dictionary: Buffer | undefined, last: boolean, level: number) {
  return new Promise<Buffer[]>((resolve, reject) => {
    const d = createDeflateRaw({
      level,
      chunkSize: OUT_CHUNK,
      finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
      ...(dictionary ? { dictionary } : {}),
    });
    const out: Buffer[] = [];
    d.on('data', (chunk: Buffer) => out.push(chunk));
    d.on('end', () => resolve(out));
    d.on('error', reject);
    d.end(input);
  });
}
