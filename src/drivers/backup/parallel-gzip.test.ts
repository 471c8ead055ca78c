import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ParallelGzip } from './parallel-gzip.ts';

/** Text-like bytes (compressible, with repeats across blocks) and random ones, interleaved. */
function mixed(size: number): Buffer {
  const out = Buffer.alloc(size);
  const words = ['peer', 'cell', 'wireguard', 'calendar', '{"id":', '"ok"}', '\n'];
  for (let at = 0, i = 0; at < size; i++) {
    if (i % 50 === 0) {
      const r = randomBytes(Math.min(300, size - at));
      r.copy(out, at);
      at += r.length;
      continue;
    }
    at += out.write(`${words[i % words.length]}${i % 97} `, at);
  }
  return out;
}

async function gzipInPieces(
  data: Buffer,
  pieces: number,
  opts: ConstructorParameters<typeof ParallelGzip>[0],
) {
  const gz = new ParallelGzip(opts);
  const result = buffer(gz);
  const step = Math.max(1, Math.ceil(data.length / pieces));
  for (let at = 0; at < data.length; at += step) await gz.write(data.subarray(at, at + step));
  await gz.end();
  return result;
}

test('what it writes is one gzip member that gunzip reads back, whatever the sizes', async () => {
  const block = 64 * 1024;
  for (const size of [0, 1, 1000, block - 1, block, block + 1, 3.5 * block, 10 * block + 7]) {
    const data = mixed(size);
    for (const opts of [{ blockSize: block }, { blockSize: 4096, inFlight: 3 }, {}]) {
      const gz = await gzipInPieces(data, 7, opts);
      assert.deepEqual(gunzipSync(gz), data, `size ${size}, ${JSON.stringify(opts)}`);
    }
  }
});

test('a caller may reuse its buffer once write resolves (the input is copied)', async () => {
  const data = mixed(300 * 1024);
  const gz = new ParallelGzip({ blockSize: 16 * 1024 });
  const result = buffer(gz);
  const scratch = Buffer.alloc(10_000);
  for (let at = 0; at < data.length; at += scratch.length) {
    const n = data.copy(scratch, 0, at, at + scratch.length);
    await gz.write(scratch.subarray(0, n));
    scratch.fill(0xee);
  }
  await gz.end();
  assert.deepEqual(gunzipSync(await result), data);
});

test('the output is about as small as one zlib stream at the same level (the dictionary carries over)', async () => {
  const data = mixed(4 * 1024 * 1024);
  const parallel = (await gzipInPieces(data, 16, {})).length;
  const single = gzipSync(data, { level: 6 }).length;
  assert.ok(parallel < single * 1.01, `parallel ${parallel} bytes against ${single}`);
});

test('a destroyed stream makes a waiting write fail instead of hanging', async () => {
  const gz = new ParallelGzip({ blockSize: 1024, inFlight: 2 });
  gz.on('error', () => undefined);
  // Nobody reads: the writer soon waits for room; destroying the stream must end that wait.
  const writing = (async () => {
    for (let i = 0; i < 10_000; i++) await gz.write(randomBytes(1024));
  })();
  await new Promise((r) => setTimeout(r, 50));
  gz.destroy(new Error('disk full'));
  await assert.rejects(writing, /disk full|closed/);
});
