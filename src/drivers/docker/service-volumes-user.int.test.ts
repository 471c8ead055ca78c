// A restore's volume import into a container that runs as a user of its own with every capability
// dropped (webmail: www-data, no capabilities, its data directory 0700). Root in such a container
// cannot enter the directory, so emptying it must run as the container's user: the mail end-to-end
// restore failed here with "find: Permission denied" before.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import tar from 'tar-stream';
import { DockerEngine } from './engine.ts';
import { dockerServiceVolumes } from './service-volumes.ts';

const IMAGE = 'debian:bookworm-slim';
const engine = new DockerEngine();
const skip = !(await engine.reachable())
  ? 'dockerd is not reachable'
  : !(await engine.imageId(IMAGE))
    ? `${IMAGE} is not a local image`
    : false;
const name = `pic-voluser-${randomBytes(4).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'pic-voluser-'));

before(() => {
  if (skip) return;
  chownSync(dir, 33, 33);
  chmodSync(dir, 0o700);
  writeFileSync(join(dir, 'old.txt'), 'from before the restore\n');
  chownSync(join(dir, 'old.txt'), 33, 33);
  const r = spawnSync(
    'docker',
    [
      'run',
      '-d',
      '--name',
      name,
      '--user',
      '33:33',
      '--cap-drop',
      'ALL',
      '-v',
      `${dir}:/data`,
      IMAGE,
      'sleep',
      'infinity',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
});

after(() => {
  spawnSync('docker', ['rm', '-f', name]);
  rmSync(dir, { recursive: true, force: true });
});

test('a volume goes back into a capability-less container that runs as its own user', { skip }, async () => {
  const volumes = dockerServiceVolumes(engine, () => []);
  const pack = tar.pack();
  pack.entry({ name: 'restored.txt', mode: 0o600, uid: 33, gid: 33 }, 'from the backup\n');
  pack.finalize();
  await volumes.import({ service: 'webmail', volume: 'data', container: name, path: '/data' }, pack as never);
  const ls = await engine.exec(name, ['ls', '-A', '/data'], { user: '33' });
  assert.equal(ls.exitCode, 0, ls.stderr);
  assert.deepEqual(ls.stdout.trim().split('\n'), ['restored.txt']);
});
