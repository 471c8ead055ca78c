// `pic backup` and `pic restore` on the host carry the installed store services' data volumes, as the
// API's backup does (same archive: volumes/<service>/<volume>/…), through the host's Docker engine: a
// container from the local debian:bookworm-slim, named as the store names a service's container (the
// .env's PIC_NAME_PREFIX), holds /data; the cell's database says a running service declares it. Backed
// up, changed, restored: the files are the backup's again. Then as root on a data directory uid 1000
// owns: the owner's child (setpriv, with the Docker socket's group as cell-api has) does the same.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCell } from '../composition.ts';
import { chownTree } from '../drivers/docker/host-dirs.ts';
import { skipReason, volumeContainer } from '../drivers/docker/volume-container-kit.ts';
import { StoreServicesStore } from '../drivers/store/store-services-store.ts';
import { storeContainerName } from '../render/store/service-containers.ts';
import { parseServiceManifest } from '../schema/service-manifest.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const skip = await skipReason();

const prefix = `pbv${randomBytes(3).toString('hex')}-`;
const data = volumeContainer(storeContainerName(prefix, 'notes', 'main'));
const { sh } = data;

function pic(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(NODE, [MAIN, ...args], { cwd: ROOT, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Every file under /data with its owner, mode and hash. */
const tree = () => data.tree({ filesOnly: true });

describe('pic backup / pic restore with a store service volume (Docker)', { skip }, () => {
  let cellDir: string;
  const passFile = () => join(cellDir, 'pass.txt');

  before(async () => {
    cellDir = mkdtempSync(join(tmpdir(), 'pic-cli-volumes-'));
    mkdirSync(join(cellDir, 'data', 'api'), { recursive: true });
    writeFileSync(join(cellDir, '.env'), `PIC_NAME_PREFIX=${prefix}\n`);
    writeFileSync(passFile(), 'a passphrase for volumes\n', { mode: 0o600 });
    const parsed = parseServiceManifest({
      schema_version: 1,
      id: 'notes',
      name: 'Notes',
      description: 'Notes kept in a volume',
      version: '1.0.0',
      kind: 'app',
      containers: [{ name: 'main', image: { build: '.' }, volumes: [{ name: 'data', path: '/data' }] }],
      http_routes: [{ subdomain: 'notes', container: 'main', port: 8080 }],
      backup_volumes: ['data'],
    });
    assert.ok(parsed.ok, JSON.stringify(parsed));
    const cell = createCell({ dataDir: join(cellDir, 'data', 'api'), sweepTemps: false, writeLogs: false });
    try {
      new StoreServicesStore(cell.db).put({
        id: 'notes',
        version: '1.0.0',
        state: 'running',
        virtualIp: undefined,
        images: {},
        manifest: parsed.manifest,
        installedAt: new Date().toISOString(),
        lastError: undefined,
      });
    } finally {
      cell.close();
    }
    await data.start(
      ['mkdir', '-p', '/data/notes/2026'],
      ['sh', '-c', 'echo "# December" > /data/notes/2026/dec.md && echo secret > /data/key'],
      ['dd', 'if=/dev/urandom', 'of=/data/blob.bin', 'bs=64k', 'count=40', 'status=none'],
      ['chown', '-R', '932:932', '/data/notes'],
      ['chmod', '600', '/data/key'],
    );
  });
  after(async () => {
    await data.remove();
    rmSync(cellDir, { recursive: true, force: true });
  });

  async function roundTrip(): Promise<void> {
    const original = await tree();
    assert.equal(original.length, 3, original.join('\n'));
    const made = await pic(['backup', '--passphrase-file', passFile(), '--dir', cellDir]);
    assert.equal(made.code, 0, made.stderr);
    const archive = made.stdout.trimEnd().split('\n').at(-1)!;

    await sh(['rm', '-r', '/data/notes', '/data/key']);
    await sh(['sh', '-c', 'echo stray > /data/stray']);
    assert.notDeepEqual(await tree(), original);

    const done = await pic([
      'restore',
      archive,
      '--passphrase-file',
      passFile(),
      '--dir',
      cellDir,
      '--no-up',
    ]);
    assert.equal(done.code, 0, `${done.stdout}\n${done.stderr}`);
    assert.doesNotMatch(done.stderr, /note:/);
    assert.deepEqual(await tree(), original, 'the volume is the backup’s again, the stray file gone');
  }

  test('the volume goes into the archive and comes back from it', { timeout: 300_000 }, roundTrip);

  test('as root on a data directory uid 1000 owns: the owner’s child reaches Docker too', {
    timeout: 300_000,
    skip: process.getuid?.() !== 0,
  }, async () => {
    chmodSync(cellDir, 0o755); // mkdtemp's 0700 would keep uid 1000 out of the whole cell
    chownTree(join(cellDir, 'data'), 1000);
    await roundTrip();
  });
});
