// The backup benchmark's input: about `mb` MiB of mixed files under one directory, shaped like a
// cell's data with services in it. Half the bytes compress (JSON lines and text, ~4× with gzip -6),
// half do not (random bytes: keys, media, archives). By bytes: 10 % in many small files (256 B–16 KiB,
// 100 per directory), 30 % in medium ones (64 KiB–8 MiB), 60 % in four large ones.
// Deterministic layout and text (a seeded generator); the random bytes come from node:crypto.
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface Generated {
  files: number;
  bytes: number;
}

/** mulberry32: small, fast and seeded; only the shape of the data depends on it. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'peer laptop phone tablet handshake endpoint allowed address dns query answer cache ' +
  'blocked zone record certificate renew caddy route service backup restore vault session ' +
  'login admin user config apply container health ready timeout retry upstream latency bytes'
).split(' ');
const LEVELS = ['debug', 'info', 'info', 'info', 'warn', 'error'];

/** A pool of JSON lines (logs, state) larger than gzip's 32 KiB window: slices of it compress as text does. */
function textPool(size: number, rnd: () => number): Buffer {
  const lines: string[] = [];
  let n = 0;
  let t = Date.UTC(2026, 10, 1);
  while (n < size) {
    t += Math.floor(rnd() * 5000);
    const words = Array.from(
      { length: 3 + Math.floor(rnd() * 8) },
      () => WORDS[Math.floor(rnd() * WORDS.length)],
    );
    const line = `${JSON.stringify({
      ts: new Date(t).toISOString(),
      level: LEVELS[Math.floor(rnd() * LEVELS.length)],
      peer: `${WORDS[Math.floor(rnd() * 6)]}-${Math.floor(rnd() * 200)}`,
      addr: `10.0.${Math.floor(rnd() * 4)}.${Math.floor(rnd() * 254) + 1}`,
      bytes: Math.floor(rnd() * 1e7),
      ms: Math.round(rnd() * 25000) / 100,
      msg: words.join(' '),
      id: Math.floor(rnd() * 2 ** 48).toString(16),
    })}\n`;
    lines.push(line);
    n += line.length;
  }
  return Buffer.from(lines.join(''));
}

const CHUNK = 1 << 20;

function writeFile(path: string, size: number, text: boolean, pool: Buffer, rnd: () => number): void {
  const fd = openSync(path, 'w', 0o600);
  const random = Buffer.allocUnsafe(Math.min(size, CHUNK));
  try {
    let left = size;
    while (left > 0) {
      const n = Math.min(left, CHUNK);
      let chunk: Buffer;
      if (text) {
        const at = Math.floor(rnd() * (pool.length - n));
        chunk = pool.subarray(at, at + n);
      } else {
        chunk = random.subarray(0, n);
        randomFillSync(chunk);
      }
      let off = 0;
      while (off < n) off += writeSync(fd, chunk, off, n - off);
      left -= n;
    }
  } finally {
    closeSync(fd);
  }
}

/** Log-uniform between lo and hi: many near lo, a few near hi. */
const logUniform = (rnd: () => number, lo: number, hi: number) =>
  Math.floor(Math.exp(Math.log(lo) + rnd() * (Math.log(hi) - Math.log(lo))));

export function generate(dir: string, mb: number): Generated {
  const rnd = prng(20261203);
  const total = Math.round(mb * 1024 * 1024);
  const pool = textPool(Math.max(4 * CHUNK, Math.min(16 * CHUNK, total / 8)), rnd);
  let files = 0;
  let bytes = 0;
  const put = (path: string, size: number, text: boolean) => {
    writeFile(path, size, text, pool, rnd);
    files += 1;
    bytes += size;
  };

  // Many small files: settings, keys, per-peer state (mostly JSON, one in five random).
  const smallBudget = total * 0.1;
  for (let used = 0, i = 0; used < smallBudget; i++) {
    const sub = join(dir, 'small', `d${String(Math.floor(i / 100)).padStart(4, '0')}`);
    if (i % 100 === 0) mkdirSync(sub, { recursive: true });
    const size = Math.min(logUniform(rnd, 256, 16 * 1024), Math.ceil(smallBudget - used));
    const text = rnd() < 0.8;
    put(join(sub, `f${String(i).padStart(6, '0')}.${text ? 'json' : 'bin'}`), size, text);
    used += size;
  }
  // Medium files: documents, photos, logs, half and half.
  const mediumBudget = total * 0.3;
  mkdirSync(join(dir, 'medium'), { recursive: true });
  for (let used = 0, i = 0; used < mediumBudget; i++) {
    const size = Math.min(logUniform(rnd, 64 * 1024, 8 * CHUNK), Math.ceil(mediumBudget - used));
    const text = i % 2 === 0;
    put(join(dir, 'medium', `m${String(i).padStart(4, '0')}.${text ? 'log' : 'jpg'}`), size, text);
    used += size;
  }
  // A few large ones: two that compress (a database dump, a log archive), two that do not (videos).
  const large = Math.max(1, Math.floor((total - bytes) / 4));
  mkdirSync(join(dir, 'large'), { recursive: true });
  put(join(dir, 'large', 'dump.jsonl'), large, true);
  put(join(dir, 'large', 'video-1.mp4'), large, false);
  put(join(dir, 'large', 'journal.log'), large, true);
  put(join(dir, 'large', 'video-2.mp4'), Math.max(1, total - bytes), false);
  return { files, bytes };
}
