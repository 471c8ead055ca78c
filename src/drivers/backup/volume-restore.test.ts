import assert from 'node:assert/strict';
import { test } from 'node:test';
import { restoredMode } from './volume-restore.ts';

test('a restored file loses setuid and setgid; a directory keeps setgid and the sticky bit', () => {
  assert.equal(restoredMode({ type: 'file', mode: 0o6755 }), 0o755);
  assert.equal(restoredMode({ type: 'file', mode: 0o4711 }), 0o711);
  assert.equal(restoredMode({ type: 'file', mode: 0o1644 }), 0o1644);
  assert.equal(restoredMode({ type: 'directory', mode: 0o6775 }), 0o2775);
  assert.equal(restoredMode({ type: 'directory', mode: 0o1777 }), 0o1777);
  assert.equal(restoredMode({ type: 'symlink', mode: 0o777 }), 0o777);
});
