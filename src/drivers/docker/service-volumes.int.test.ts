// A service's volume through a backup and a restore on the real Docker engine, through the API: a
// container from the local debian:bookworm-slim (nothing is built or pulled; no network) holds a
// directory of nested files (a few MB of random bytes, names with spaces and accents, owners and
// modes, an empty directory, a symlink, a hard link, a FIFO); it is backed up as a declared volume,
// wiped (and a stray file added), restored, and its tree, owners, modes, times, links and hashes are
// the same again; the FIFO, which a backup cannot carry, is named in the backup job's notes.
// PIC_TEST_VOLUME_MB sets the random file's size (default 4) to watch memory on a large volume.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import tar from 'tar-stream';
import {
  ADMIN_PASSWORD,
  authed,
  completeSetup,
  type Kit,
  type Login,
  login,
  makeKit,
} from '../../api/test-kit.ts';
import type { ServiceVolume } from '../../schema/backup.ts';
import { DockerEngine } from './engine.ts';
import { engineSkipReason } from './engine-skip-kit.ts';
import { dockerServiceVolumes } from './service-volumes.ts';

const IMAGE = 'debian:bookworm-slim';
const engine = new DockerEngine();
const MB = Number(process.env.PIC_TEST_VOLUME_MB ?? 4);

const skip = await engineSkipReason(engine, IMAGE);

const name = `pic-voltest-${randomBytes(4).toString('hex')}`;
const VOL: ServiceVolume = { service: 'notes', volume: 'data', container: name, path: '/data' };

async function run(argv: string[]): Promise<string> {
  const r = await engine.exec(name, argv, { user: '0' });
  assert.equal(r.exitCode, 0, `${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Every entry under /data (type, mode, owner, seconds, size, link count, target) and every file's hash. */
async function snapshot(): Promise<{ tree: string[]; hashes: string[] }> {
  const tree = (
    await run(['find', '/data', '-mindepth', '1', '-printf', '%P\t%y\t%m\t%U:%G\t%T@\t%s\t%n\t%l\n'])
  )
    .trim()
    .split('\n')
    .map((line) => {
      const f = line.split('\t');
      // Seconds only: a tar carries whole seconds. A directory's size is the file system's business.
      f[4] = String(Math.floor(Number(f[4])));
      if (f[1] === 'd') f[5] = '-';
      return f.join('\t');
    })
    .sort();
  const hashes = (await run(['find', '/data', '-type', 'f', '-exec', 'sha256sum', '{}', '+']))
    .trim()
    .split('\n')
    .sort();
  return { tree, hashes };
}

/** The volume's starting contents, put in through the same archive API a restore uses. */
async function seed(): Promise<void> {
  const pack = tar.pack();
  const at = new Date('2024-05-06T07:08:09Z');
  const add = (h: Parameters<tar.Pack['entry']>[0], body?: string) =>
    pack.entry({ mtime: at, uid: 1000, gid: 1000, ...h }, body ?? '');
  add({ name: 'notes/', type: 'directory', mode: 0o755 });
  add({ name: 'notes/2024/', type: 'directory', mode: 0o755 });
  add({ name: 'notes/2024/jan.md', mode: 0o644 }, '# January\n');
  add({ name: 'notes/with space.txt', mode: 0o600 }, 'spaces in a name\n');
  add({ name: 'notes/café ~ "quoted".txt', mode: 0o640 }, 'accents and quotes\n');
  add({ name: 'db/', type: 'directory', mode: 0o700, uid: 999, gid: 999 });
  add({ name: 'db/pg.conf', mode: 0o600, uid: 999, gid: 999 }, 'shared_buffers = 128MB\n');
  add({ name: 'empty/', type: 'directory', mode: 0o750 });
  add({ name: 'blobs/', type: 'directory', mode: 0o755 });
  add({ name: 'latest', type: 'symlink', linkname: 'notes/2024/jan.md', mode: 0o777 });
  add({ name: 'hard', type: 'link', linkname: 'notes/2024/jan.md', mode: 0o644 });
  // Set-id bits: a restore drops them from files (a directory keeps setgid).
  add({ name: 'bin/', type: 'directory', mode: 0o2775 });
  add({ name: 'bin/tool', mode: 0o6755 }, '#!/bin/sh\n');
  pack.finalize();
  await engine.docker.getContainer(name).putArchive(pack as never, { path: '/data' });
  await run(['dd', 'if=/dev/urandom', 'of=/data/blobs/random.bin', 'bs=1M', `count=${MB}`, 'status=none']);
  await run(['mkfifo', '/data/pipe']);
}

describe('a service volume through backup and restore (Docker)', { skip }, () => {
  let kit: Kit;
  let admin: Login;
  const api = (method: 'GET' | 'POST', url: string, payload?: object) =>
    kit.app.inject({ method, url, headers: authed(admin), ...(payload ? { payload } : {}) });

  async function finished(id: string) {
    for (let i = 0; i < 24_000; i++) {
      const r = await api('GET', `/api/config/backups/${id}`);
      // A restore ends every session once it has swapped the state in: log in again to follow it.
      if (r.statusCode === 401) {
        admin = await login(kit.app, 'admin', ADMIN_PASSWORD);
        continue;
      }
      const job = r.json().job;
      if (job && (job.phase === 'done' || job.phase === 'failed')) return job;
      await new Promise((res) => setTimeout(res, 25));
    }
    throw new Error('the job did not end');
  }

  before(async () => {
    const c = await engine.docker.createContainer({
      name,
      Image: IMAGE,
      Cmd: ['sleep', 'infinity'],
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    await run(['mkdir', '/data']);
    await seed();
    kit = await makeKit(
      {},
      { backup: { workFactor: 10 }, serviceVolumes: dockerServiceVolumes(engine, () => [VOL]) },
    );
    admin = await completeSetup(kit);
  });
  after(async () => {
    await kit?.close();
    await engine.docker
      .getContainer(name)
      .remove({ force: true, v: true })
      .catch(() => undefined);
  });

  test('backed up, wiped, restored: the same tree, owners, modes, times, links and bytes', {
    timeout: 600_000,
  }, async () => {
    const original = await snapshot();
    assert.ok(original.tree.some((l) => l.startsWith('notes/with space.txt\tf\t600\t1000:1000')));
    assert.ok(original.tree.some((l) => l.startsWith('db\td\t700\t999:999')));
    assert.ok(
      original.tree.some((l) => l.startsWith('bin/tool\tf\t6755\t')),
      'the seed has a set-id file',
    );
    let peak = 0;
    const base = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss - base);
    }, 20);
    try {
      const made = await api('POST', '/api/config/backup', { passphrase: 'a long backup passphrase' });
      assert.equal(made.statusCode, 202, made.body);
      const id = made.json().backup_id as string;
      const job = await finished(id);
      assert.equal(job.phase, 'done', job.error);
      console.log(
        `after backup: peak ${Math.round(peak / 1048576)} MB, ${JSON.stringify(Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, Math.round(v / 1048576)])))}`,
      );
      assert.equal(job.bytes_done, job.bytes_total);
      assert.ok(job.bytes_total > MB * 1024 * 1024);
      assert.equal(job.notes.length, 1, JSON.stringify(job.notes));
      assert.match(job.notes[0], /Volume data of notes: 1 entry was not backed up .*"pipe" \(fifo\)/);

      await run(['find', '/data', '-mindepth', '1', '-delete']);
      await run(['touch', '/data/stray']);

      const restore = await api('POST', `/api/config/restore/${id}`, {
        passphrase: 'a long backup passphrase',
      });
      assert.equal(restore.statusCode, 202, restore.body);
      const rjob = await finished(id);
      assert.equal(rjob.phase, 'done', rjob.error);
      assert.deepEqual(rjob.notes, []);
    } finally {
      clearInterval(sampler);
    }
    const restored = await snapshot();
    assert.deepEqual(
      restored.tree,
      original.tree
        .filter((l) => !l.startsWith('pipe\t'))
        .map((l) => (l.startsWith('bin/tool\t') ? l.replace('\t6755\t', '\t755\t') : l)),
      'the tree is the backup’s, the FIFO aside',
    );
    assert.deepEqual(restored.hashes, original.hashes);
    // Streamed both ways: what this process holds does not grow with the volume.
    assert.ok(peak < 256 * 1024 * 1024, `rss grew by ${Math.round(peak / 1024 / 1024)} MB`);
    console.log(`volume of ${MB} MB: rss grew by at most ${Math.round(peak / 1024 / 1024)} MB`);
  });
});
