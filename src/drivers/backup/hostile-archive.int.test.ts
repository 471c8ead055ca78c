// Hostile archives (issue 11): each one is refused by the restore path (openArchive + unpack) with an
// ArchiveError that says what is wrong, and nothing appears or changes outside the staging directory.
// The archives are built by hand: tar-stream's pack, raw ustar blocks where pack will not go (GNU long
// names, a NUL or a prefix in a header), node:zlib, and age-encryption at a low scrypt work factor.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  createWriteStream,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Encrypter } from 'age-encryption';
import tar from 'tar-stream';
import { type BackupHeader, DEFAULT_UNPACK_LIMITS, type UnpackLimits } from '../../schema/backup.ts';
import { ArchiveError, openArchive, unpack } from './archive-reader.ts';

const root = mkdtempSync(join(tmpdir(), 'pic-hostile-'));
after(() => rmSync(root, { recursive: true, force: true }));

const header: BackupHeader = {
  format: 1,
  pic_version: '0.1.0',
  created_at: '2026-12-03T14:00:00.000Z',
  backup_id: 'backup-20261203-140000-abcdef',
  cell: { cell_name: 'home', domain: 'home.cell' },
};
const PASS = 'correct horse battery staple';
const LIMITS: UnpackLimits = { maxEntries: 20, maxEntryBytes: 64 * 1024, maxTotalBytes: 256 * 1024 };
/** Every case either fails at once or hangs: none may take this long. */
const T = { timeout: 20_000 };

type Entry = Partial<tar.Header> & { name: string; body?: Buffer };
/** A tar member: an entry tar-stream packs, or raw 512-byte blocks. */
type Part = Entry | Buffer;

async function packOne({ body, ...h }: Entry): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ mode: 0o600, mtime: new Date(0), ...h }, body ?? Buffer.alloc(0));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks).subarray(0, -1024); // without the end-of-archive blocks
}

/** A ustar header written byte by byte: the name may hold anything, the type any flag. */
function raw(
  name: string,
  type: string,
  body = Buffer.alloc(0),
  o: { prefix?: string; size?: number } = {},
): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'latin1');
  h.write('0000600\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${(o.size ?? body.length).toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write(type, 156);
  h.write('ustar\x0000', 257);
  h.write(o.prefix ?? '', 345, 155, 'latin1');
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return Buffer.concat([h, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

async function tarBytes(parts: Part[]): Promise<Buffer> {
  const blocks = await Promise.all(parts.map((p) => (Buffer.isBuffer(p) ? p : packOne(p))));
  return Buffer.concat([...blocks, Buffer.alloc(1024)]);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const headerEntry = (h: unknown = header): Entry => ({
  name: 'pic-backup.json',
  body: Buffer.from(JSON.stringify(h)),
});
function manifestEntry(files: Record<string, Buffer>, edit?: (m: { files: object[] }) => void): Entry {
  const m = {
    ...header,
    files: Object.entries(files).map(([path, d]) => ({ path, size: d.length, sha256: sha(d) })),
  };
  edit?.(m);
  return { name: 'MANIFEST.json', body: Buffer.from(JSON.stringify(m)) };
}
/** A well-formed archive of these files; `between` goes after the header, before the files. */
async function goodTar(files: Record<string, Buffer>, between: Part[] = []): Promise<Buffer> {
  const entries = Object.entries(files).map(([name, body]) => ({ name, body }));
  return tarBytes([headerEntry(), ...between, ...entries, manifestEntry(files)]);
}

async function encrypt(plain: Buffer): Promise<Buffer> {
  const e = new Encrypter();
  e.setPassphrase(PASS);
  e.setScryptWorkFactor(4);
  return Buffer.from(await e.encrypt(plain));
}

let saved = 0;
function save(bytes: Buffer): string {
  mkdirSync(join(root, 'archives'), { recursive: true });
  const file = join(root, 'archives', `a${++saved}`);
  writeFileSync(file, bytes);
  return file;
}

interface Case {
  dir: string;
  staging: string;
}
let cases = 0;
/** staging and a sentinel sibling under a fresh directory: anything escaping staging lands beside them. */
function newCase(): Case {
  const dir = join(root, `case-${++cases}`);
  mkdirSync(join(dir, 'staging'), { recursive: true, mode: 0o700 });
  mkdirSync(join(dir, 'sentinel'));
  writeFileSync(join(dir, 'sentinel', 'keep'), 'untouched\n');
  return { dir, staging: join(dir, 'staging') };
}

/** Everything under the case directory except staging: name, type, mode, size and content hash. */
function outside(c: Case): string[] {
  return readdirSync(c.dir, { recursive: true, withFileTypes: true })
    .map((d) => join(d.parentPath, d.name))
    .filter((p) => !`${p}/`.startsWith(`${c.staging}/`))
    .map((p) => {
      const s = lstatSync(p);
      const content = s.isFile() ? sha(readFileSync(p)) : '';
      return `${relative(c.dir, p)} ${s.mode.toString(8)} ${s.size} ${s.mtimeMs} ${content}`;
    })
    .sort();
}

/** Whatever did land in staging is plain files and directories: no link, no device, no FIFO. */
function assertTame(staging: string): void {
  for (const d of readdirSync(staging, { recursive: true, withFileTypes: true }))
    assert.ok(
      d.isFile() || d.isDirectory(),
      `${join(d.parentPath, d.name)} is neither a file nor a directory`,
    );
}

interface Expect {
  passphrase?: string;
  limits?: UnpackLimits;
  field?: 'archive' | 'passphrase';
  /** Paths an escape would have written. */
  targets?: string[];
  /** The refusal comes before any file is written (header checks, the age header). */
  emptyStaging?: boolean;
}

async function refused(c: Case, file: string, message: RegExp, x: Expect = {}): Promise<ArchiveError> {
  const before = outside(c);
  for (const t of x.targets ?? []) assert.equal(existsSync(t), false, `${t} exists before the test`);
  let err: unknown;
  try {
    const opened = await openArchive(file, x.passphrase);
    try {
      await unpack(opened, { staging: c.staging, limits: x.limits ?? LIMITS, picVersion: '0.1.0' });
    } finally {
      await opened.close();
    }
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ArchiveError, `expected an ArchiveError, got ${String(err)}`);
  assert.match(err.message, message);
  assert.equal(err.field, x.field ?? 'archive');
  assert.deepEqual(outside(c), before, 'something outside staging changed');
  for (const t of x.targets ?? []) assert.equal(existsSync(t), false, `${t} was written`);
  assertTame(c.staging);
  if (x.emptyStaging) assert.deepEqual(readdirSync(c.staging), []);
  return err;
}

async function refusedTar(parts: Part[] | Buffer, message: RegExp, x: Expect = {}, c = newCase()) {
  const bytes = Buffer.isBuffer(parts) ? parts : await tarBytes(parts);
  return refused(c, save(gzipSync(bytes)), message, x);
}

const UNSAFE = /is not a safe relative path/;
const ok = Buffer.from('fine\n');

describe('hostile archives are refused and nothing outside staging changes', () => {
  describe('paths', () => {
    test("'..' segments", T, async () => {
      const c = newCase();
      for (const name of ['data/../../escape', '../escape', 'data/x/../../../escape'])
        await refusedTar(
          [headerEntry(), { name, body: ok }],
          UNSAFE,
          { targets: [join(c.dir, 'escape')] },
          c,
        );
      await refusedTar([headerEntry(), { name: './data/x', body: ok }], UNSAFE);
    });

    test('absolute paths and empty segments', T, async () => {
      const c = newCase();
      const abs = join(c.dir, 'abs-escape');
      for (const name of ['/etc/x', abs, 'data//x', '//data/x'])
        await refusedTar([headerEntry(), { name, body: ok }], UNSAFE, { targets: ['/etc/x', abs] }, c);
      // a ustar prefix of '/etc' makes the name absolute too
      await refusedTar([headerEntry(), raw('pic-x', '0', ok, { prefix: '/etc' })], UNSAFE, {
        targets: ['/etc/pic-x'],
      });
    });

    test('backslashes, control characters and non-ASCII', T, async () => {
      const c = newCase();
      for (const name of ['data\\..\\..\\escape', '..\\escape', 'data/a\nb', 'data/é', 'data/a b'])
        await refusedTar(
          [headerEntry(), { name, body: ok }],
          UNSAFE,
          { targets: [join(c.dir, 'escape')] },
          c,
        );
    });

    test('a NUL in a name: a ustar name ends there, a pax path is refused', T, async () => {
      const c = newCase();
      const targets = [join(c.dir, 'escape')];
      // ustar: every tar reads 'data/ok', which is then not in the manifest
      await refusedTar(
        [headerEntry(), raw('data/ok\0/../../escape', '0', ok), manifestEntry({})],
        /"data\/ok" is in the archive but not in the manifest/,
        { targets },
        c,
      );
      await refusedTar(
        [headerEntry(), { name: 'data/ok', body: ok, pax: { path: 'data/ok\0/../../escape' } }],
        /null byte/,
        { targets },
        c,
      );
    });

    test('a path outside the layout', T, async () => {
      for (const name of ['foo/bar', 'db/other.db', 'env/.env.bak', 'volumes/x', 'volumes/UP/v/f', 'data'])
        await refusedTar([headerEntry(), { name, body: ok }], /outside the backup's layout/);
    });

    test('long names that escape: pax path and GNU long name', T, async () => {
      const c = newCase();
      const long = `data/${'a/'.repeat(150)}${'../'.repeat(153)}escape`;
      const targets = [join(c.dir, 'escape')];
      const err = await refusedTar([headerEntry(), { name: long, body: ok }], UNSAFE, { targets }, c);
      assert.ok(err.message.length < 300, 'a long name is shortened in the message');
      await refusedTar(
        [headerEntry(), raw('././@LongLink', 'L', Buffer.from(`${long}\0`)), raw('data/short', '0', ok)],
        UNSAFE,
        { targets },
        c,
      );
      // long but harmless-looking: over the manifest's 1024 characters, or one name over 255 bytes
      await refusedTar([headerEntry(), { name: `data/${'a/'.repeat(520)}x`, body: ok }], /too long/);
      await refusedTar(
        [headerEntry(), { name: `data/${'a'.repeat(300)}`, body: ok }],
        /has a name too long for this file system/,
      );
      // a pax size override is a size like any other
      await refusedTar(
        [headerEntry(), { name: 'data/x', body: ok, pax: { size: String(2 ** 40) } }],
        /larger than the budget for one file/,
      );
    });
  });

  describe('entry types', () => {
    test('a symlink out of staging, then a file written through it', T, async () => {
      const c = newCase();
      for (const linkname of [c.dir, '../..', join(c.dir, 'sentinel')])
        await refusedTar(
          [
            headerEntry(),
            { name: 'data/link', type: 'symlink', linkname },
            { name: 'data/link/keep', body: Buffer.from('overwritten\n') },
          ],
          /"data\/link" is a symlink: only files and directories are restored/,
          { targets: [join(c.dir, 'keep')], emptyStaging: true },
          c,
        );
    });

    test('a hard link to /etc/passwd', T, async () => {
      await refusedTar(
        [headerEntry(), { name: 'data/passwd', type: 'link', linkname: '/etc/passwd' }],
        /"data\/passwd" is a link: only files and directories/,
        { emptyStaging: true },
      );
    });

    test('a character device, a block device, a FIFO, a contiguous file', T, async () => {
      const types = ['character-device', 'block-device', 'fifo', 'contiguous-file'] as const;
      for (const type of types)
        await refusedTar(
          [headerEntry(), { name: 'data/dev', type, devmajor: 1, devminor: 3 }],
          new RegExp(`is a ${type}: only files and directories are restored`),
          { emptyStaging: true },
        );
    });
  });

  describe('budgets', () => {
    test('an entry larger than maxEntryBytes', T, async () => {
      await refusedTar(
        await goodTar({ 'data/big': Buffer.alloc(LIMITS.maxEntryBytes + 1, 1) }),
        /"data\/big" is larger than the budget for one file/,
        { emptyStaging: true },
      );
      // the header and the manifest are held to the entry budget as well
      await refusedTar([headerEntry({ ...header, pad: 'x'.repeat(LIMITS.maxEntryBytes) })], /budget/);
    });

    test('more entries than maxEntries', T, async () => {
      const files = Object.fromEntries(
        Array.from({ length: LIMITS.maxEntries }, (_, i) => [`data/f${i}`, ok]),
      );
      await refusedTar(await goodTar(files), /more than 20 entries/);
      // directories count too
      const dirs = Array.from({ length: LIMITS.maxEntries }, (_, i) => ({
        name: `data/d${i}`,
        type: 'directory' as const,
      }));
      await refusedTar([headerEntry(), ...dirs], /more than 20 entries/);
    });

    test('a total over maxTotalBytes', T, async () => {
      const files = Object.fromEntries(
        Array.from({ length: 5 }, (_, i) => [`data/f${i}`, Buffer.alloc(60 * 1024, i)]),
      );
      await refusedTar(await goodTar(files), /holds more bytes than the size budget allows/);
    });

    test('a compression bomb (1 GiB of zeros in 1 MB) stops at the budget, memory flat', T, async () => {
      const rss = process.resourceUsage().maxRSS;
      // zeros read as end-of-archive blocks to tar: only the decompression budget can stop them
      const zeros = await bomb([headerEntry()]);
      await refused(newCase(), zeros, /unpacks to more than the size budget allows/, { emptyStaging: true });
      const grownMiB = (process.resourceUsage().maxRSS - rss) / 1024;
      assert.ok(grownMiB < 256, `peak memory grew by ${grownMiB.toFixed(0)} MiB`);
      // one that declares its 1 GiB in a tar header stops there, before a byte of it is read
      const declared = await bomb([
        headerEntry(),
        raw('data/zeros', '0', Buffer.alloc(0), { size: 2 ** 30 }),
      ]);
      await refused(newCase(), declared, /"data\/zeros" is larger than the budget/, { emptyStaging: true });
    });
  });
});

/**
 * These tar members, then 1 GiB of zeros, gzipped into about 1 MB: one 1 MiB member of zeros written
 * 1024 times (gunzip reads concatenated members as one stream; deflating 1 GiB would take seconds).
 */
async function bomb(parts: Part[]): Promise<string> {
  const file = join(root, 'archives', `bomb-${++saved}.gz`);
  mkdirSync(join(root, 'archives'), { recursive: true });
  const out = createWriteStream(file);
  out.write(gzipSync((await tarBytes(parts)).subarray(0, -1024)));
  const member = gzipSync(Buffer.alloc(1 << 20), { level: 9 });
  for (let i = 0; i < 1024; i++)
    if (!out.write(member)) await new Promise<void>((r) => out.once('drain', () => r()));
  await new Promise<void>((r) => out.end(() => r()));
  assert.ok(lstatSync(file).size < 4 * 1024 ** 2);
  return file;
}

describe('hostile age files', () => {
  const body = randomBytes(200 * 1024); // incompressible: the ciphertext spans four 64 KiB chunks
  const tarGz = async () => gzipSync(await goodTar({ 'data/blob': body }));
  const CHUNK = 64 * 1024 + 16;
  /** Where the STREAM payload starts: after the header's '--- mac' line and the 16-byte nonce. */
  const payloadAt = (f: Buffer) => f.indexOf('\n', f.indexOf('\n---') + 1) + 1 + 16;
  const ageRefused = (bytes: Buffer, message: RegExp, x: Expect = {}) =>
    refused(newCase(), save(bytes), message, { passphrase: PASS, limits: DEFAULT_UNPACK_LIMITS, ...x });

  test('the intact file unpacks (the cases below differ from it in one way each)', T, async () => {
    const c = newCase();
    const opened = await openArchive(save(await encrypt(await tarGz())), PASS);
    await unpack(opened, { staging: c.staging, limits: DEFAULT_UNPACK_LIMITS, picVersion: '0.1.0' });
    await opened.close();
    assert.deepEqual(readFileSync(join(c.staging, 'data/blob')), body);
  });

  test('a wrong passphrase', T, async () => {
    await ageRefused(await encrypt(await tarGz()), /the passphrase does not open this backup/, {
      passphrase: 'not the passphrase at all',
      field: 'passphrase',
      emptyStaging: true,
    });
  });

  test('a missing passphrase on an age file', T, async () => {
    await ageRefused(await encrypt(await tarGz()), /encrypted: give its passphrase/, {
      passphrase: undefined,
      field: 'passphrase',
      emptyStaging: true,
    });
  });

  test('a file that is neither age nor gzip', T, async () => {
    const armored = Buffer.from('-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCg==\n');
    const plainTar = await goodTar({ 'data/a': ok });
    for (const bytes of [randomBytes(4096), Buffer.alloc(0), Buffer.from([0x1f]), armored, plainTar])
      await ageRefused(bytes, /neither an age file nor a gzip archive/, { emptyStaging: true });
    // an age file holding something other than gzip is caught by gunzip
    await ageRefused(await encrypt(plainTar), /damaged/, { emptyStaging: true });
  });

  test(
    'truncated: in the middle of a chunk, and exactly at a chunk boundary (no final chunk)',
    T,
    async () => {
      const full = await encrypt(await tarGz());
      const at = payloadAt(full);
      assert.ok(full.length > at + 3 * CHUNK);
      for (const cut of [at + CHUNK + 1000, at + CHUNK, at + 2 * CHUNK, full.length - 1, at + 10, at, at - 5])
        await ageRefused(full.subarray(0, cut), /damaged, truncated or altered|not a valid age file/);
      await ageRefused(full.subarray(0, 40), /not a valid age file/, { emptyStaging: true });
    },
  );

  test('an altered byte in the ciphertext body (or its nonce)', T, async () => {
    const full = await encrypt(await tarGz());
    for (const at of [
      payloadAt(full) + 5,
      payloadAt(full) + CHUNK + 7,
      full.length - 1,
      payloadAt(full) - 3,
    ]) {
      const bad = Buffer.from(full);
      bad[at] = bad[at]! ^ 0x01;
      await ageRefused(bad, /the archive is damaged, truncated or altered: invalid tag/);
    }
  });

  test('an altered header: its MAC, its version line, its stanza, a huge work factor', T, async () => {
    const full = await encrypt(await tarGz());
    const text = full.toString('latin1');
    const edit = (from: RegExp, to: string) => Buffer.from(text.replace(from, to), 'latin1');
    const mac = full.indexOf('\n---') + 6;
    const badMac = Buffer.from(full);
    badMac[mac] = badMac[mac] === 0x41 ? 0x42 : 0x41;
    await ageRefused(badMac, /not a valid age file: .*HMAC/, { emptyStaging: true });
    await ageRefused(edit(/^age-encryption\.org\/v1/, 'age-encryption.org/v2'), /neither an age/);
    // the salt changed: the key derived from it opens nothing, which is all age can tell
    const salt0 = text.match(/scrypt (.)/)![1];
    await ageRefused(edit(/scrypt (.)/, `scrypt ${salt0 === 'A' ? 'B' : 'A'}`), /passphrase does not open/, {
      field: 'passphrase',
      emptyStaging: true,
    });
    // logN 40 would take days: age-encryption refuses anything over 20 before computing
    const started = Date.now();
    await ageRefused(edit(/(scrypt \S+) 4\n/, '$1 40\n'), /work factor is too high/, { emptyStaging: true });
    assert.ok(Date.now() - started < 5000);
  });
});

describe('archives whose manifest or header does not match', () => {
  const files = { 'db/cell.db': Buffer.from('SQLite format 3\0'), 'data/a': ok };
  const entries = Object.entries(files).map(([name, body]) => ({ name, body }));

  test('a changed sha256, a changed size', T, async () => {
    await refusedTar(
      [
        headerEntry(),
        ...entries,
        manifestEntry(files, (m) => Object.assign(m.files[1]!, { sha256: '0'.repeat(64) })),
      ],
      /"data\/a" does not match the manifest/,
    );
    await refusedTar(
      [headerEntry(), ...entries, manifestEntry(files, (m) => Object.assign(m.files[1]!, { size: 4 }))],
      /"data\/a" does not match the manifest/,
    );
  });

  test('a file missing from the manifest, a manifest entry with no file', T, async () => {
    await refusedTar(
      [headerEntry(), ...entries, { name: 'data/extra', body: ok }, manifestEntry(files)],
      /"data\/extra" is in the archive but not in the manifest/,
    );
    await refusedTar(
      [headerEntry(), entries[0]!, manifestEntry(files)],
      /"data\/a" is in the manifest but not in the archive/,
    );
  });

  test('duplicates: a file twice, a manifest entry twice, the header twice', T, async () => {
    await refusedTar(
      [headerEntry(), ...entries, entries[1]!, manifestEntry(files)],
      /"data\/a" is in the archive twice/,
    );
    await refusedTar(
      [headerEntry(), ...entries, manifestEntry(files, (m) => m.files.push(m.files[1]!))],
      /the manifest lists "data\/a" twice/,
    );
    await refusedTar(
      [headerEntry(), headerEntry(), ...entries, manifestEntry(files)],
      /"pic-backup\.json" is in the archive twice/,
    );
  });

  test('the manifest not last, no manifest, the header not first, no header', T, async () => {
    await refusedTar(
      [headerEntry(), entries[0]!, manifestEntry(files), entries[1]!],
      /comes after the manifest/,
    );
    await refusedTar([headerEntry(), ...entries], /no manifest/);
    await refusedTar([...entries, headerEntry(), manifestEntry(files)], /does not start with its header/, {
      emptyStaging: true,
    });
    await refusedTar([], /the archive is empty/);
    await refusedTar([manifestEntry(files)], /does not start with its header/);
  });

  test(
    'a header or manifest that is not JSON, or not a PIC one, or disagrees with the other',
    T,
    async () => {
      await refusedTar(
        [{ name: 'pic-backup.json', body: Buffer.from('{') }],
        /pic-backup\.json is not valid JSON/,
      );
      await refusedTar([headerEntry({ hello: 1 })], /not a PIC backup header/);
      await refusedTar(
        [headerEntry(), ...entries, { name: 'MANIFEST.json', body: Buffer.from('[]') }],
        /not a PIC backup manifest/,
      );
      await refusedTar(
        [
          headerEntry(),
          ...entries,
          manifestEntry(files, (m) => Object.assign(m, { backup_id: 'backup-20261203-140000-000000' })),
        ],
        /manifest's backup_id does not match the header's/,
      );
    },
  );

  test('a file and a directory of the same name', T, async () => {
    await refusedTar(
      [headerEntry(), { name: 'data/a', body: ok }, { name: 'data/a/b', body: ok }],
      /"data\/a\/b" clashes with another entry/,
    );
    await refusedTar(
      [headerEntry(), { name: 'data/a/b', body: ok }, { name: 'data/a', body: ok }],
      /"data\/a" clashes with another entry/,
    );
  });

  test('a gzip stream cut short, altered, or followed by garbage', T, async () => {
    const gz = gzipSync(await goodTar({ 'data/a': randomBytes(20_000) }));
    for (const cut of [gz.length - 1, gz.length - 8, Math.floor(gz.length / 2), 10])
      await refused(newCase(), save(gz.subarray(0, cut)), /truncated|damaged/);
    const bad = Buffer.from(gz);
    bad[gz.length - 6] = bad[gz.length - 6]! ^ 0xff; // the CRC
    await refused(newCase(), save(bad), /damaged/);
    const body = Buffer.from(gz);
    body[Math.floor(gz.length / 2)] = body[Math.floor(gz.length / 2)]! ^ 0xff;
    await refused(newCase(), save(body), /damaged|truncated|manifest/);
    for (const tail of [randomBytes(100), Buffer.from([0x1f, 0x8b, 8, 0])])
      await refused(newCase(), save(Buffer.concat([gz, tail])), /damaged|truncated|cannot be read/);
  });

  test('unknown tar entry types', T, async () => {
    for (const type of ['S', 'V', 'D', 'M', 'Z'])
      await refusedTar(
        [headerEntry(), raw('data/x', type, ok)],
        /is a special entry: only files and directories are restored/,
      );
  });

  test('an archive from a newer PIC, and one in a newer format, stop at the header', T, async () => {
    await refusedTar(
      [headerEntry({ ...header, pic_version: '99.0.0' }), ...entries, manifestEntry(files)],
      /written by PIC 99\.0\.0, newer than this one \(0\.1\.0\): update PIC first/,
      { emptyStaging: true },
    );
    await refusedTar(
      [headerEntry({ ...header, format: 2 }), ...entries, manifestEntry(files)],
      /archive format 2; this PIC reads up to 1: update PIC first/,
      { emptyStaging: true },
    );
  });
});
