import assert from 'node:assert/strict';
import { buffer } from 'node:stream/consumers';
import { test } from 'node:test';
import tar from 'tar-stream';
import { fileHeader, padding } from './tar-header.ts';

/** What tar-stream's pack writes for the same entry (the format the reader and GNU tar expect). */
async function packed(name: string, size: number): Promise<Buffer> {
  const pack = tar.pack();
  const out = buffer(pack);
  const entry = pack.entry({ name, size, mode: 0o600, mtime: new Date(0) });
  entry.end(undefined);
  pack.finalize();
  return (await out).subarray(0, fileHeader(name, size).length);
}

test("headers are byte for byte tar-stream's: short names, ustar prefixes, pax paths", async () => {
  const long = `${'d'.repeat(60)}/${'e'.repeat(90)}/${'f'.repeat(99)}`;
  const veryLong = `${'a'.repeat(200)}/${'b'.repeat(300)}/name.txt`;
  for (const name of ['api/wireguard/server.key', long, veryLong, `x/${'y'.repeat(99)}`]) {
    const ours = fileHeader(name, 0);
    assert.deepEqual(ours, await packed(name, 0), name.slice(0, 40));
  }
});

test('sizes of 8 GiB and more are written in base-256, as tar-stream does', () => {
  const header = fileHeader('volumes/big.img', 2 ** 33 + 5);
  assert.equal(header[124], 0x80);
  assert.equal(header.readUIntBE(130, 6), 2 ** 33 + 5);
});

test('padding ends content on a 512-byte boundary', () => {
  assert.deepEqual([0, 1, 511, 512, 513].map(padding), [0, 511, 1, 0, 511]);
});
