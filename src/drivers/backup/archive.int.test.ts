// The archive round trip, and that it is a real age file: Debian's `age` opens what PIC writes and
// PIC opens what `age -p` wrote (age reads passphrases from a terminal: `script` gives it one).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import type { BackupHeader } from '../../schema/backup.ts';
import { DEFAULT_UNPACK_LIMITS } from '../../schema/backup.ts';
import { ArchiveError, openArchive, unpack } from './archive-reader.ts';
import { type ArchiveSource, writeArchive } from './archive-writer.ts';

const root = mkdtempSync(join(tmpdir(), 'pic-archive-'));
after(() => rmSync(root, { recursive: true, force: true }));

const header: BackupHeader = {
  format: 1,
  pic_version: '0.1.0',
  created_at: '2026-12-03T14:00:00.000Z',
  backup_id: 'backup-20261203-140000-abcdef',
  cell: { cell_name: 'home', domain: 'home.cell' },
};
const PASS = 'correct horse battery staple';

function bytes(path: string, data: Buffer): ArchiveSource {
  return { path, size: data.length, open: () => Readable.from([data]) };
}

const files = {
  'db/cell.db': Buffer.from('SQLite format 3\0 pretend'),
  'data/secrets/wg/server.key': Buffer.from('private key\n'),
  'data/secrets/vault/ca.key': Buffer.alloc(300_000, 7),
  'env/.env': Buffer.from('WG_PORT=51820\n'),
};
const sources = () => Object.entries(files).map(([p, d]) => bytes(p, d));

function haveAge(): boolean {
  return spawnSync('age', ['--version']).status === 0 && spawnSync('script', ['--version']).status === 0;
}

/** Runs `age` under a pseudo-terminal, typing the passphrase at each prompt. */
function ageWithTty(args: string[], prompts: number): void {
  const typed = Array.from({ length: prompts }, () => `${PASS}\n`).join('');
  const cmd = ['age', ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  // `script` runs its command through a shell; every argument here is quoted and comes from this test.
  const r = spawnSync(
    'bash',
    ['-c', `(sleep 0.3; printf %s "$TYPED"; sleep 0.5) | script -qec ${JSON.stringify(cmd)} /dev/null`],
    {
      env: { ...process.env, TYPED: typed },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
}

describe('backup archives', () => {
  test('plain round trip: every file comes back with the manifest verified', async () => {
    const out = join(root, 'plain.tar.gz');
    const { manifest, size } = await writeArchive({ out, header, sources: sources() });
    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.equal(statSync(out).size, size);
    assert.equal(manifest.files.length, 4);
    const staging = join(root, 'staging-plain');
    mkdirSync(staging);
    const opened = await openArchive(out, undefined);
    const got = await unpack(opened, { staging, limits: DEFAULT_UNPACK_LIMITS, picVersion: '0.1.0' });
    await opened.close();
    assert.deepEqual(got, manifest);
    for (const [p, d] of Object.entries(files)) assert.deepEqual(readFileSync(join(staging, p)), d);
    // tar itself reads it (a person without PIC can list it)
    const list = spawnSync('tar', ['-tzf', out], { encoding: 'utf8' });
    assert.equal(list.status, 0);
    assert.match(list.stdout, /^pic-backup\.json\n/);
    assert.match(list.stdout, /MANIFEST\.json\n$/);
  });

  test('encrypted round trip; a wrong passphrase fails at the header, naming the passphrase', async () => {
    const out = join(root, 'enc.tar.gz.age');
    await writeArchive({ out, header, sources: sources(), encryption: { passphrase: PASS, workFactor: 10 } });
    assert.equal(readFileSync(out).subarray(0, 21).toString(), 'age-encryption.org/v1');
    await assert.rejects(openArchive(out, 'not the passphrase at all'), (e: unknown) => {
      assert.ok(e instanceof ArchiveError);
      assert.equal(e.field, 'passphrase');
      return true;
    });
    await assert.rejects(openArchive(out, undefined), /encrypted/);
    const staging = join(root, 'staging-enc');
    mkdirSync(staging);
    const opened = await openArchive(out, PASS);
    await unpack(opened, { staging, limits: DEFAULT_UNPACK_LIMITS, picVersion: '0.1.0' });
    await opened.close();
    assert.deepEqual(
      readFileSync(join(staging, 'data/secrets/vault/ca.key')),
      files['data/secrets/vault/ca.key'],
    );
  });

  test("Debian's age -d opens what PIC wrote", { skip: !haveAge() && 'age or script missing' }, async () => {
    const out = join(root, 'for-age.tar.gz.age');
    await writeArchive({ out, header, sources: sources(), encryption: { passphrase: PASS, workFactor: 12 } });
    const dec = join(root, 'from-age.tar.gz');
    ageWithTty(['-d', '-o', dec, out], 1);
    const list = spawnSync('tar', ['-tzf', dec], { encoding: 'utf8' });
    assert.match(list.stdout, /data\/secrets\/wg\/server\.key/);
  });

  test("PIC opens what Debian's age -p wrote", { skip: !haveAge() && 'age or script missing' }, async () => {
    const plain = join(root, 'made.tar.gz');
    await writeArchive({ out: plain, header, sources: sources() });
    const enc = join(root, 'made-by-age.tar.gz.age');
    ageWithTty(['-p', '-o', enc, plain], 2);
    const staging = join(root, 'staging-age');
    mkdirSync(staging);
    const opened = await openArchive(enc, PASS);
    const got = await unpack(opened, { staging, limits: DEFAULT_UNPACK_LIMITS, picVersion: '0.1.0' });
    await opened.close();
    assert.equal(got.files.length, 4);
  });

  test('a source that changes size while read fails the backup and leaves no file', async () => {
    const out = join(root, 'shrunk.tar.gz');
    await assert.rejects(
      writeArchive({
        out,
        header,
        sources: [{ path: 'data/x', size: 10, open: () => Readable.from([Buffer.from('abc')]) }],
      }),
      /shrank/,
    );
    assert.throws(() => statSync(out));
  });

  test('an archive from a newer PIC is refused at its header', async () => {
    const out = join(root, 'newer.tar.gz');
    await writeArchive({ out, header: { ...header, pic_version: '9.0.0' }, sources: sources() });
    const staging = join(root, 'staging-newer');
    mkdirSync(staging);
    const opened = await openArchive(out, undefined);
    await assert.rejects(
      unpack(opened, { staging, limits: DEFAULT_UNPACK_LIMITS, picVersion: '0.1.0' }),
      /newer/,
    );
    await opened.close();
  });
});
