import assert from 'node:assert/strict';
import {
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { externalBindRefusal, prepareBind, writeRenderedFile } from './host-dirs.ts';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'pic-host-dirs-')));
after(() => rmSync(root, { recursive: true, force: true }));

test('a rendered file is written once (0644) and not rewritten while its content is the same', () => {
  const file = { path: join(root, 'config', 'ntp', 'chrony.conf'), content: 'local stratum 10\n' };
  assert.equal(writeRenderedFile(file), true);
  assert.equal(statSync(file.path).mode & 0o777, 0o644);
  const mtime = statSync(file.path).mtimeMs;
  assert.equal(writeRenderedFile(file), false);
  assert.equal(statSync(file.path).mtimeMs, mtime);
  assert.equal(writeRenderedFile({ ...file, content: 'server 10.0.0.1\n' }), true);
  assert.equal(readFileSync(file.path, 'utf8'), 'server 10.0.0.1\n');
});

test('bind directories are 0700 unless the spec gives a mode (rendered configs: 0755)', () => {
  prepareBind({ host: join(root, 'data', 'x'), container: '/x', readOnly: false, uid: process.getuid!() });
  assert.equal(statSync(join(root, 'data', 'x')).mode & 0o777, 0o700);
  const uid = process.getuid!();
  prepareBind({ host: join(root, 'config', 'ntp'), container: '/c', readOnly: true, uid, mode: 0o755 });
  assert.equal(statSync(join(root, 'config', 'ntp')).mode & 0o777, 0o755);
});

test('an external bind (a backup target) is never created, chowned, nor its mode changed', () => {
  const uid = process.getuid!();
  const missing = join(root, 'unplugged', 'pic');
  assert.throws(
    () =>
      prepareBind({ host: missing, container: '/backup-targets/1', readOnly: false, uid, external: true }),
    /refused, not mounted: .*does not exist/,
  );
  assert.throws(() => statSync(missing), 'not created: Docker must not get a directory on the root fs');
  const owned = join(root, 'usb');
  mkdirSync(owned, { mode: 0o750 });
  const before = statSync(owned);
  prepareBind({ host: owned, container: '/backup-targets/2', readOnly: false, uid: 4242, external: true });
  assert.equal(statSync(owned).mode & 0o777, 0o750);
  assert.equal(statSync(owned).uid, before.uid, 'not chowned: the owner gives it to cell-api');
});

test('an external bind that is a symlink, passes through one, or is a file is refused', () => {
  const real = join(root, 'real-etc');
  mkdirSync(join(real, 'sub'), { recursive: true });
  const link = join(root, 'link');
  symlinkSync(real, link);
  const file = join(root, 'a-file');
  writeFileSync(file, 'x');
  for (const [host, why] of [
    [link, /is a symlink/],
    [join(link, 'sub'), /passes through a symlink/],
    [file, /is not a directory/],
  ] as const) {
    assert.equal(externalBindRefusal(host)?.includes(host), true, host);
    assert.throws(
      () => prepareBind({ host, container: '/backup-targets/3', readOnly: false, uid: 4242, external: true }),
      why,
    );
  }
  assert.notEqual(statSync(real).uid, 4242, 'the symlink target is not chowned');
  assert.equal(externalBindRefusal(real), undefined);
});

test('a shallow bind (a store volume) gives the directory to uid and leaves what is inside alone', {
  skip: process.getuid?.() !== 0 && 'needs root to chown',
}, () => {
  const host = join(root, 'data', 'services', 'files', 'data');
  mkdirSync(join(host, 'users', 'alice'), { recursive: true });
  chownSync(join(host, 'users', 'alice'), 33, 33);
  prepareBind({ host, container: '/srv/files', readOnly: false, uid: 932, gid: 931, shallow: true });
  assert.deepEqual([statSync(host).uid, statSync(host).gid], [932, 931]);
  assert.deepEqual([statSync(join(host, 'users', 'alice')).uid, statSync(join(host, 'users')).uid], [33, 0]);
  // Without `shallow`, the whole tree is given (the core's daemons).
  prepareBind({ host, container: '/srv/files', readOnly: false, uid: 932 });
  assert.equal(statSync(join(host, 'users', 'alice')).uid, 932);
});
