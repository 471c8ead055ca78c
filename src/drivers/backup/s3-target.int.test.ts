// The S3 target against servers on 127.0.0.1: s3rver for S3's behaviour (put, list under a prefix,
// delete, an archive streamed with its length), and the SigV4-checking fake for what s3rver lets
// through: a wrong secret is a 403 SignatureDoesNotMatch named as such, and so is a wrong key id;
// a redirect is not followed; a paged listing is read whole; a stalled upload ends.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { s3Target } from './s3-target.ts';
import { type FakeS3, fakeS3 } from './sigv4-fake-kit.ts';

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
// s3rver ships no types; it is a test server only.
const S3rver = createRequire(import.meta.url)('s3rver') as new (o: object) => S3rverInstance;

const A = 'backup-20260301-030000-a1b2c3.tar.gz.age';
const B = 'backup-20260302-030000-d4e5f6.tar.gz.age';
const KEY = { accessKeyId: 'AKIAPICTEST0001', secret: 'pic-test-secret-access-key-0001' };
const body = (s: string) => Readable.from([Buffer.from(s)]);

describe('s3rver: put, list, delete under a prefix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pic-s3rver-'));
  let server: S3rverInstance;
  let endpoint: string;
  before(async () => {
    server = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: dir,
      configureBuckets: [{ name: 'pic-backups', configs: [] }],
    });
    const addr = await server.run();
    endpoint = `http://127.0.0.1:${addr.port}`;
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const target = (prefix: string | null) =>
    s3Target({
      allowPrivate: true, // s3rver and the fakes listen on loopback
      endpoint,
      region: 'us-east-1',
      bucket: 'pic-backups',
      prefix,
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    });

  test('objects go under the prefix; listing sees them, not what sits elsewhere', async () => {
    const t = target('cells/home');
    const other = target(null);
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    await t.put(A, Readable.from([big.subarray(0, 1_000_000), big.subarray(1_000_000)]), big.length);
    await t.put(B, body('second'), 6);
    await other.put(A, body('at the root'), 11);
    assert.deepEqual(await t.list(), [
      { name: A, size: big.length },
      { name: B, size: 6 },
    ]);
    assert.deepEqual(await other.list(), [{ name: A, size: 11 }], 'the prefix is a folder, not a filter');
    await t.remove(A);
    await t.remove(A); // gone already: fine
    assert.deepEqual(await t.list(), [{ name: B, size: 6 }]);
  });

  test('a missing bucket is named', async () => {
    const t = s3Target({
      allowPrivate: true, // s3rver and the fakes listen on loopback
      endpoint,
      region: 'us-east-1',
      bucket: 'no-such-bucket',
      prefix: null,
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    });
    await assert.rejects(t.list(), /HTTP 404 NoSuchBucket \(check the bucket name\)/);
  });
});

describe('SigV4-checking fake', () => {
  let s3: FakeS3;
  before(async () => {
    s3 = await fakeS3({
      ...KEY,
      secretAccessKey: KEY.secret,
      bucket: 'pic-backups',
      region: 'eu-west-1',
      pageSize: 2,
    });
  });
  after(() => s3.close());

  const target = (over: { secret?: string | undefined; keyId?: string } = {}) =>
    s3Target({
      allowPrivate: true, // s3rver and the fakes listen on loopback
      endpoint: s3.url,
      region: 'eu-west-1',
      bucket: 'pic-backups',
      prefix: 'pic',
      accessKeyId: over.keyId ?? KEY.accessKeyId,
      secretAccessKey: 'secret' in over ? over.secret : KEY.secret,
      stallMs: 500,
    });

  test('the right secret: put, a paged listing, delete', async () => {
    const t = target();
    for (const name of [A, B, 'pic-probe-0123456789abcdef']) await t.put(name, body(name), name.length);
    assert.deepEqual(
      (await t.list()).map((o) => o.name),
      [A, B, 'pic-probe-0123456789abcdef'],
      'three objects over two pages of two',
    );
    assert.equal(s3.objects.get(`pic/${A}`)?.toString(), A);
    for (const name of [A, B, 'pic-probe-0123456789abcdef']) await t.remove(name);
    assert.equal(s3.objects.size, 0);
  });

  test('a wrong secret is a 403 SignatureDoesNotMatch, and the error carries no secret', async () => {
    const wrong = 'not-the-secret-access-key-at-all';
    const t = target({ secret: wrong });
    await assert.rejects(t.put(A, body('x'), 1), (e: Error) => {
      assert.equal(
        e.message,
        'upload: S3 answered HTTP 403 SignatureDoesNotMatch (check the secret access key)',
      );
      return !e.message.includes(wrong);
    });
    await assert.rejects(t.list(), /listing: S3 answered HTTP 403 SignatureDoesNotMatch/);
    await assert.rejects(t.remove(A), /delete: S3 answered HTTP 403 SignatureDoesNotMatch/);
    assert.equal(s3.objects.size, 0);
  });

  test('a wrong key id, and no stored secret, are named', async () => {
    await assert.rejects(
      target({ keyId: 'AKIAOTHER' }).list(),
      /403 InvalidAccessKeyId \(check the access key id\)/,
    );
    await assert.rejects(target({ secret: undefined }).list(), /no secret access key is stored/);
  });

  test('a redirect is not followed; a server error is named', async () => {
    s3.redirect = true;
    await assert.rejects(target().list(), /redirect \(HTTP 301, not followed\)/);
    s3.redirect = false;
    s3.failNext(1, 503);
    await assert.rejects(target().put(A, body('x'), 1), /HTTP 503 SlowDown/);
  });
});

describe('limits', () => {
  test('an upload whose answer never comes stalls out; a huge listing page is refused', async () => {
    const silent = createServer((req) => req.resume());
    const huge = createServer((_req, res) => {
      res.writeHead(200);
      res.end(`<ListBucketResult>${'x'.repeat(300_000)}</ListBucketResult>`);
    });
    for (const s of [silent, huge]) await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const at = (s: typeof silent) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    const opts = {
      allowPrivate: true,
      region: 'us-east-1',
      bucket: 'b-1',
      prefix: null,
      accessKeyId: 'AK1',
      secretAccessKey: 'secret-12',
    };
    try {
      const t0 = Date.now();
      await assert.rejects(
        s3Target({ ...opts, endpoint: at(silent), stallMs: 300 }).put(A, body('abc'), 3),
        /upload stalled/,
      );
      assert.ok(Date.now() - t0 < 5_000);
      await assert.rejects(
        s3Target({ ...opts, endpoint: at(huge), maxPageBytes: 100_000 }).list(),
        /listing: the answer is too large/,
      );
      await assert.rejects(
        s3Target({ ...opts, endpoint: at(huge) }).put(A, body('x'), 6 * 1024 ** 3),
        /at most 5 GiB \(multipart uploads are not supported yet\)/,
      );
    } finally {
      for (const s of [silent, huge]) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
    }
  });
});
