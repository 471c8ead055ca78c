// A volume's round trip without Docker: a synthetic tar as `docker cp` streams it (top directory
// first) is re-packed into archive sources, written by the archive writer and unpacked by the
// verifying reader, then packed again for a fake port's import; the tar it gets holds the same
// entries, owners, modes, times, contents and links. The re-pack streams (an entry is handed on
// before the tar is read past it), and what a backup cannot carry is named in a note.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import tar from 'tar-stream';
import type { ServiceVolumesPort } from '../../core/ports/service-volumes.ts';
import {
  ARCHIVE_PATH_PATTERN,
  type BackupHeader,
  DEFAULT_UNPACK_LIMITS,
  type ServiceVolume,
  type VolumeIndex,
} from '../../schema/backup.ts';
import { openArchive, unpack } from './archive-reader.ts';
import { type ArchiveSource, writeArchive } from './archive-writer.ts';
import { encodeVolumePath } from './volume-names.ts';
import { restoreStagedVolumes } from './volume-restore.ts';
import { repackVolume, thenVolumes, volumeSources } from './volume-sources.ts';

const root = mkdtempSync(join(tmpdir(), 'pic-volumes-'));
after(() => rmSync(root, { recursive: true, force: true }));

const VOL: ServiceVolume = { service: 'notes', volume: 'data', container: 'pic-notes', path: '/srv/data' };
const header: BackupHeader = {
  format: 1,
  pic_version: '0.1.0',
  created_at: '2026-12-03T14:00:00.000Z',
  backup_id: 'backup-20261203-140000-abcdef',
  cell: { cell_name: 'home', domain: 'home.cell' },
};
const T0 = new Date('2024-05-06T07:08:09Z');
const big = Buffer.alloc(3 * 1024 * 1024 + 17, 0x5a);

type Entry = Partial<tar.Header> & { name: string; body?: Buffer };

/** What `docker cp` would stream for /srv/data: the top directory `data/`, then everything under it. */
function volumeTar(): Entry[] {
  const meta = { uid: 1000, gid: 1000, mtime: T0 };
  return [
    { name: 'data/', type: 'directory', mode: 0o755, ...meta },
    { name: 'data/plain.txt', mode: 0o644, ...meta, body: Buffer.from('plain\n') },
    { name: 'data/with space & quote\'".txt', mode: 0o600, ...meta, body: Buffer.from('spaced\n') },
    { name: 'data/café ~tilde', mode: 0o640, ...meta, body: Buffer.from('accent\n') },
    { name: 'data/db/', type: 'directory', mode: 0o700, uid: 999, gid: 998, mtime: T0 },
    { name: 'data/db/big.bin', mode: 0o600, uid: 999, gid: 998, mtime: T0, body: big },
    { name: 'data/db/empty/', type: 'directory', mode: 0o750, ...meta },
    { name: 'data/db/zero', mode: 0o400, ...meta, body: Buffer.alloc(0) },
    { name: 'data/hard', type: 'link', linkname: 'data/plain.txt', mode: 0o644, ...meta },
    { name: 'data/current', type: 'symlink', linkname: 'db/big.bin', mode: 0o777, ...meta },
    { name: 'data/abs', type: 'symlink', linkname: '/etc/hostname', mode: 0o777, ...meta },
    { name: 'data/out', type: 'symlink', linkname: '../../etc', mode: 0o777, ...meta },
    { name: 'data/pipe', type: 'fifo', mode: 0o644, ...meta },
    { name: 'data/tty', type: 'character-device', mode: 0o600, devmajor: 5, devminor: 0, ...meta },
  ];
}

function tarStream(entries: Entry[]): Readable {
  const pack = tar.pack();
  void (async () => {
    for (const { body, ...h } of entries)
      await new Promise<void>((resolve, reject) =>
        pack.entry(h, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve())),
      );
    pack.finalize();
  })();
  // In chunks of 16 KiB, as an HTTP response comes (pack hands a body on in one piece).
  return Readable.from(
    (async function* () {
      for await (const c of pack as AsyncIterable<Buffer>)
        for (let i = 0; i < c.length; i += 16384) yield c.subarray(i, i + 16384);
    })(),
    { objectMode: false },
  );
}

async function readAll(s: Readable | AsyncIterable<Buffer> | Iterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Every entry of a tar, with its body's hash, keyed by name. */
async function entriesOf(stream: Readable): Promise<Map<string, tar.Header & { sha?: string }>> {
  const out = new Map<string, tar.Header & { sha?: string }>();
  const extract = tar.extract();
  stream.pipe(extract as never);
  for await (const e of extract) {
    const body = await readAll(e as never);
    const sha = e.header.type === 'file' ? createHash('sha256').update(body).digest('hex') : undefined;
    out.set(e.header.name.replace(/\/$/, ''), { ...e.header, ...(sha ? { sha } : {}) });
  }
  return out;
}

describe('service volumes in a backup', () => {
  test('names: plain ones stay, every other byte is ~XX, and the result is an archive path', () => {
    assert.equal(encodeVolumePath('db/pg_wal/0001.bin'), 'db/pg_wal/0001.bin');
    assert.equal(encodeVolumePath('with space.txt'), 'with~20space.txt');
    assert.equal(encodeVolumePath('a~b/café'), 'a~7Eb/caf~C3~A9');
    for (const name of ['it\'s a "name"', 'x\\y', 'tab\there', '日本語', '~pic-volume.json'])
      assert.match(`volumes/s/v/${encodeVolumePath(name)}`, ARCHIVE_PATH_PATTERN, name);
    // The index's name is never what a volume's file becomes.
    assert.notEqual(encodeVolumePath('~pic-volume.json'), '~pic-volume.json');
  });

  test('the re-pack hands each file on as the tar streams, then the index; skipped entries are a note', async () => {
    let pulled = 0;
    const counted = tarStream(volumeTar()).on('data', (c: Buffer) => {
      pulled += c.length;
    });
    const notes: string[] = [];
    const gen = repackVolume(VOL, counted, (t) => notes.push(t));
    const seen: { path: string; size: number; body: Buffer }[] = [];
    for await (const s of gen) {
      if (s.path.endsWith('big.bin'))
        assert.ok(pulled < big.length, `the tar was read ${pulled} bytes ahead of the file handed on`);
      seen.push({ path: s.path, size: s.size, body: await readAll(await s.open()) });
    }
    assert.deepEqual(
      seen.map((s) => s.path),
      [
        'volumes/notes/data/plain.txt',
        'volumes/notes/data/with~20space~20~26~20quote~27~22.txt',
        'volumes/notes/data/caf~C3~A9~20~7Etilde',
        'volumes/notes/data/db/big.bin',
        'volumes/notes/data/db/zero',
        'volumes/notes/data/~pic-volume.json',
      ],
    );
    assert.ok(seen.every((s) => s.size === s.body.length));
    assert.ok(seen[3]!.body.equals(big));
    const index = JSON.parse(seen.at(-1)!.body.toString()) as VolumeIndex;
    const byPath = new Map(index.entries.map((e) => [e.path, e]));
    assert.deepEqual(byPath.get('db'), {
      type: 'directory',
      path: 'db',
      mode: 0o700,
      uid: 999,
      gid: 998,
      mtime: T0.getTime() / 1000,
    });
    assert.deepEqual(byPath.get('hard'), {
      type: 'link',
      target: 'plain.txt',
      path: 'hard',
      mode: 0o644,
      uid: 1000,
      gid: 1000,
      mtime: T0.getTime() / 1000,
    });
    const abs = byPath.get('abs');
    assert.ok(abs?.type === 'symlink' && abs.target === '/etc/hostname');
    assert.ok(!byPath.has('pipe') && !byPath.has('tty'));
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, /Volume data of notes: 2 entries were not backed up/);
    assert.match(notes[0]!, /"pipe" \(fifo\)/);
    assert.match(notes[0]!, /"tty" \(character device\)/);
  });

  test('a volume that is not a directory, or a tar that wanders out of it, stops the backup', async () => {
    const drain = async (entries: Entry[]) => {
      for await (const s of repackVolume(VOL, tarStream(entries), () => undefined))
        await readAll(await s.open());
    };
    await assert.rejects(drain([{ name: 'data', body: Buffer.from('x') }]), /is not a directory/);
    await assert.rejects(
      drain([
        { name: 'data/', type: 'directory' },
        { name: 'other/x', body: Buffer.from('x') },
      ]),
      /the tar has "other\/x"/,
    );
    const bad: ServiceVolumesPort = {
      list: async () => [{ ...VOL, path: '/srv/../etc' }],
      export: async () => assert.fail('not exported'),
      import: async () => assert.fail('not imported'),
    };
    await assert.rejects(
      readAll(Readable.from(volumeSources(bad, () => undefined))),
      /not a valid declaration/,
    );
  });

  test('a backup a restore would refuse (over the unpack budgets) stops instead of being written', async () => {
    const port: ServiceVolumesPort = {
      list: async () => [VOL],
      export: async () => tarStream(volumeTar()),
      import: async () => assert.fail('not imported'),
    };
    const consume = async (limits: typeof DEFAULT_UNPACK_LIMITS) => {
      const all = thenVolumes(
        [],
        port,
        () => undefined,
        () => undefined,
        limits,
      );
      for await (const s of all.sources) await readAll(await s.open());
    };
    await consume(DEFAULT_UNPACK_LIMITS);
    await assert.rejects(
      consume({ ...DEFAULT_UNPACK_LIMITS, maxEntries: 5 }),
      /this backup would hold more than 5 files, which a restore refuses/,
    );
    await assert.rejects(
      consume({ ...DEFAULT_UNPACK_LIMITS, maxEntryBytes: 1024 * 1024 }),
      /volumes\/notes\/data\/db\/big\.bin, larger than 1048576 bytes/,
    );
  });

  test('backed up, archived, unpacked and imported again: the same entries, owners, modes, times and bytes', async () => {
    const dir = mkdtempSync(join(root, 'trip-'));
    const notes: string[] = [];
    const port: ServiceVolumesPort & { imported: Map<string, Readable> } = {
      imported: new Map(),
      list: async () => [VOL],
      export: async () => tarStream(volumeTar()),
      async import(v, tarBody) {
        // What the container would get: read here whole, the test's volume is small.
        this.imported.set(`${v.service}/${v.volume}`, Readable.from([await readAll(tarBody)]));
      },
    };
    const out = join(dir, 'b.tar.gz');
    const sources: AsyncIterable<ArchiveSource> = volumeSources(port, (t) => notes.push(t));
    await writeArchive({ out, header, sources });
    const staging = join(dir, 'staging');
    mkdirSync(staging);
    const archive = await openArchive(out, undefined);
    await unpack(archive, { staging, limits: DEFAULT_UNPACK_LIMITS, picVersion: '0.1.0' });
    await archive.close();

    const phases: string[] = [];
    await restoreStagedVolumes(
      staging,
      port,
      (p) => phases.push(p),
      (t) => notes.push(t),
    );
    assert.ok(phases.every((p) => p === 'volumes_restore') && phases.length > 0);
    const got = await entriesOf(port.imported.get('notes/data')!);
    const want = await entriesOf(tarStream(volumeTar()));
    for (const [name, w] of want) {
      const rel = name.replace(/^data\/?/, '');
      if (rel === '' || rel === 'pipe' || rel === 'tty' || rel === 'out') continue;
      const g = got.get(rel);
      assert.ok(g, `${rel} is in the import`);
      assert.equal(g.type, w.type, rel);
      assert.equal(g.mode & 0o7777, w.mode & 0o7777, rel);
      assert.deepEqual([g.uid, g.gid, g.mtime.getTime()], [w.uid, w.gid, w.mtime.getTime()], rel);
      assert.equal(g.sha, w.sha, rel);
      if (w.type === 'link') assert.equal(g.linkname, 'plain.txt');
      if (w.type === 'symlink') assert.equal(g.linkname, w.linkname);
    }
    assert.ok(!got.has('out'), 'a symlink out of the volume is left out (Docker would refuse the tar)');
    assert.ok(!got.has('~pic-volume.json'));
    assert.equal(got.size, want.size - 4);
    // Links come last: a hard link's file is in before it, no file goes through a symlink.
    const order = [...got.values()].map((h) => h.type);
    assert.ok(order.indexOf('link') > order.lastIndexOf('file'));
    assert.ok(order.indexOf('symlink') > order.lastIndexOf('link'));
    assert.match(
      notes.at(-1)!,
      /1 symlink\(s\) pointing out of the volume were not restored \(Docker refuses to create them\): "out" → "..\/..\/etc"/,
    );
  });

  test('a volume no installed service declares, or no port at all, is a note; a broken index stops before any import', async () => {
    const staging = mkdtempSync(join(root, 'staged-'));
    const vdir = join(staging, 'volumes', 'notes', 'data');
    mkdirSync(vdir, { recursive: true });
    const index: VolumeIndex = {
      service: 'notes',
      volume: 'data',
      entries: [{ type: 'file', path: 'a b', size: 3, mode: 0o600, uid: 0, gid: 0, mtime: 0 }],
    };
    writeFileSync(join(vdir, '~pic-volume.json'), JSON.stringify(index));
    const imports: string[] = [];
    const port = (list: ServiceVolume[]): ServiceVolumesPort => ({
      list: async () => list,
      export: async () => assert.fail('not exported'),
      async import(v, body) {
        imports.push(v.service);
        await readAll(body);
      },
    });
    const notes: string[] = [];
    await restoreStagedVolumes(
      staging,
      port([]),
      () => undefined,
      (t) => notes.push(t),
    );
    assert.match(notes[0]!, /Volume data of notes is in the backup, but no installed service declares it/);
    assert.match(notes[0]!, /kept nowhere on this machine but in the backup file/);
    await restoreStagedVolumes(
      staging,
      undefined,
      () => undefined,
      (t) => notes.push(t),
    );
    assert.match(notes[1]!, /1 data volume\(s\) \(notes\/data\).*not restored/);
    // The index lists "a b", stored as a~20b, which is not there: refused before anything is emptied.
    await assert.rejects(
      restoreStagedVolumes(
        staging,
        port([VOL]),
        () => undefined,
        () => undefined,
      ),
      /the cell was restored, but none of its volumes: volume notes\/data in the backup lacks "a b"/,
    );
    assert.deepEqual(imports, []);
    writeFileSync(join(vdir, 'a~20b'), 'abc');
    await restoreStagedVolumes(
      staging,
      port([VOL, { ...VOL, volume: 'cache' }]),
      () => undefined,
      (t) => notes.push(t),
    );
    assert.deepEqual(imports, ['notes']);
    assert.match(notes.at(-1)!, /Volume cache of notes is not in this backup: its data was left as it was/);
    assert.equal(readFileSync(join(vdir, 'a~20b'), 'utf8'), 'abc');
  });

  test('an import that fails is named once the others are in', async () => {
    const staging = mkdtempSync(join(root, 'failing-'));
    for (const volume of ['a', 'b']) {
      const vdir = join(staging, 'volumes', 'notes', volume);
      mkdirSync(vdir, { recursive: true });
      writeFileSync(join(vdir, 'f'), 'x'.repeat(1000));
      const index: VolumeIndex = {
        service: 'notes',
        volume,
        entries: [{ type: 'file', path: 'f', size: 1000, mode: 0o600, uid: 0, gid: 0, mtime: 0 }],
      };
      writeFileSync(join(vdir, '~pic-volume.json'), JSON.stringify(index));
    }
    const done: string[] = [];
    const port: ServiceVolumesPort = {
      list: async () => [
        { ...VOL, volume: 'a' },
        { ...VOL, volume: 'b' },
      ],
      export: async () => assert.fail('not exported'),
      async import(v, body) {
        if (v.volume === 'a') {
          // Fails without reading the body: the producer must not wait for a drain forever.
          throw new Error('the container is gone');
        }
        await readAll(body);
        done.push(v.volume);
      },
    };
    await assert.rejects(
      restoreStagedVolumes(
        staging,
        port,
        () => undefined,
        () => undefined,
      ),
      /the cell was restored, but not these volumes .*notes\/a: the container is gone/,
    );
    assert.deepEqual(done, ['b']);
  });
});
