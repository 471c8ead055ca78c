// Keeps a backup's or a restore's memory flat. Their bytes move through Buffers that live for a few
// milliseconds each (zlib's output, each age chunk's ciphertext, the file reads of a restore, gunzip's
// output): ~3 bytes allocated per byte moved, outside V8's heap. V8 frees a dead Buffer only at a
// collection: a scavenge, which the Buffers' small JS objects rarely trigger, or a full collection
// once external memory has grown by ~64 MiB; glibc's heap then keeps that high-water mark as RSS
// (measured: 104–150 MiB above idle over 1 GiB). So the pipeline asks for collections itself, in
// step with the bytes: a scavenge (young generation only, ~1 ms) every 4 MiB, and a full one,
// concurrent (`execution: 'async'`: marked on V8's helper threads, no long pause), every 32 MiB for
// the Buffers V8 promoted to the old generation (those that were queued during two scavenges, or
// pretenured) which no scavenge frees. The young generation itself is capped by the process's
// `--max-semi-space-size` (src/render/runtime/api-node-flags.ts): Node's default grows it to 128 MiB here.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type GcFn = (opts?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

let gcFn: GcFn | null | undefined;

/** V8's gc(), taken from a fresh context: the process's own global gets no `gc`. */
function gc(): GcFn | null {
  if (gcFn !== undefined) return gcFn;
  const own = (globalThis as { gc?: GcFn }).gc;
  if (typeof own === 'function') {
    gcFn = own;
    return gcFn;
  }
  try {
    setFlagsFromString('--expose-gc');
    const fn = runInNewContext('gc') as unknown;
    gcFn = typeof fn === 'function' ? (fn as GcFn) : null;
  } catch {
    gcFn = null;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  return gcFn;
}

const MiB = 1024 * 1024;
const MINOR_EVERY = 4 * MiB;
const MAJOR_EVERY = 32 * MiB;

/** Counts the bytes a pipeline moved and asks V8 for a collection every few MiB of them. */
export class YoungGc {
  private minor = 0;
  private major = 0;
  /** Collections asked for (tests). */
  collections = 0;

  add(bytes: number): void {
    this.minor += bytes;
    this.major += bytes;
    if (this.major >= MAJOR_EVERY) {
      this.major = 0;
      this.minor = 0;
      this.collect({ type: 'major', execution: 'async' });
    } else if (this.minor >= MINOR_EVERY) {
      this.minor = 0;
      this.collect({ type: 'minor' });
    }
  }

  private collect(opts: { type: 'minor' | 'major'; execution?: 'async' }): void {
    this.collections += 1;
    gc()?.(opts);
  }
}
