// The vault's files on a temp directory: create never replaces a file another process made, and
// leaves the file owner-only with no staging file behind.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { vaultFiles } from './vault-files.ts';

test('create writes a new file once and never replaces it', () => {
  const secrets = mkdtempSync(join(tmpdir(), 'pic-vault-'));
  try {
    const f = vaultFiles(secrets);
    assert.equal(f.create('ca.pem', 'first'), true);
    assert.equal(f.create('ca.pem', 'second'), false);
    assert.equal(f.read('ca.pem'), 'first');
    assert.equal(statSync(join(secrets, 'vault', 'ca.pem')).mode & 0o777, 0o600);
    assert.equal(statSync(join(secrets, 'vault')).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(join(secrets, 'vault')), ['ca.pem']);
  } finally {
    rmSync(secrets, { recursive: true, force: true });
  }
});
