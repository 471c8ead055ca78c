// Keeps a backup's or a restore's memory flat. Their bytes move through Buffers that live for a few
// milliseconds each (zlib's output, each age chunk's ciphertext, the file reads of a restore, gunzip's
// output): ~3 bytes allocated per byte moved, outside V8's heap. V8 frees a dead Buffer only at a
// collection: a scavenge, which the Buffers' small JS objects rarely trigger, or a full collection
// once external memory has grown by ~64 MiB; glibc's heap then keeps that high-water mark as RSS
// (measured: 104–150 MiB above idle over 1 GiB). So the pipeline asks for a scavenge (the young
// generation only: ~2 ms) every 4 MiB moved, and the dead Buffers are freed in step with the stream.
// Not a full collection at every step: forced ones cost ~120 ms each (--trace-gc of a 256 MiB restore: 14 of them,
// 1.7 s) for a few MiB less. The young generation itself is capped by the process's
// `--max-semi-space-size` (src/render/runtime/api-node-flags.ts): Node's default grows it to 128 MiB.
// Every 256 MiB moved, the collection asked for is a full one (2026-12-04): the scavenges promote the
// streams' short-lived JS objects alive at that moment, and V8 let the old generation grow for
// gigabytes before collecting it (a 1 GiB volume's backup: heapUsed 57 → 141 MiB, the process's peak
// 165 MiB above its start; with this, 79). One pause of tens of ms per 256 MiB.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type GcFn = (opts?: { type?: 'minor' | 'major' }) => void;

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
const EVERY = 4 * MiB;
/** A full collection every this many bytes (see the class). */
const FULL_EVERY = 256 * MiB;

/** Counts the bytes a pipeline moved: a scavenge every 4 MiB of them, a full collection every 256 MiB. */
export class YoungGc {
  private moved = 0;
  private sinceFull = 0;
  /** Collections asked for, and how many of them were full ones (tests). */
  collections = 0;
  full = 0;

  add(bytes: number): void {
    this.moved += bytes;
    if (this.moved < EVERY) return;
    this.sinceFull += this.moved;
    this.moved = 0;
    this.collections += 1;
    if (this.sinceFull >= FULL_EVERY) {
      this.sinceFull = 0;
      this.full += 1;
      gc()?.({ type: 'major' });
    } else gc()?.({ type: 'minor' });
  }
}
