// The certificate files Caddy loads: written atomically, 0640, in Caddy's group, never world-readable;
// the chain read back as written.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { caddyTlsFiles } from './caddy-tls-files.ts';

const dir = mkdtempSync(join(tmpdir(), 'pic-caddy-tls-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('key and chain: 0640, group of Caddy (here the test process group), nothing for others', () => {
  const gid = process.getgid?.() ?? 0;
  const files = caddyTlsFiles(join(dir, 'tls'), { gid, rootOwner: process.getuid?.() ?? 0 });
  assert.equal(files.currentChain(), undefined);
  assert.equal(files.hasKey(), false);
  files.write('CHAIN\n', 'KEY\n');
  assert.equal(files.currentChain(), 'CHAIN\n');
  assert.equal(files.hasKey(), true);
  for (const name of ['cert.pem', 'key.pem']) {
    const st = statSync(join(dir, 'tls', name));
    assert.equal(st.mode & 0o777, 0o640, name);
    assert.equal(st.gid, gid, name);
  }
  assert.equal(readFileSync(join(dir, 'tls', 'key.pem'), 'utf8'), 'KEY\n');
  assert.equal(statSync(join(dir, 'tls')).mode & 0o007, 0, 'the directory is closed to others');
});
