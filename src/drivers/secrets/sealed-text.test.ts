import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SecretFile } from '../../core/ports/secret-file.ts';
import { sealedText } from './sealed-text.ts';

const memoryFile = (): SecretFile & { value?: string } => {
  const f: SecretFile & { value?: string } = {
    read: () => f.value,
    write: (v) => {
      f.value = v;
    },
    remove: () => {
      f.value = undefined;
    },
  };
  return f;
};

test('sealed text opens to itself, never shows the plain text, and differs each time', () => {
  const file = memoryFile();
  const s = sealedText(file);
  const a = s.seal('correct horse battery');
  const b = s.seal('correct horse battery');
  assert.notEqual(a, b);
  assert.ok(!a.includes('horse'));
  assert.equal(s.open(a), 'correct horse battery');
  assert.equal(Buffer.from(file.value!, 'base64url').length, 32, 'a key was made on first use');
});

test('altered text or another key fails; unsealed rows read as they are', () => {
  const s = sealedText(memoryFile());
  const sealed = s.seal('secret');
  const parts = sealed.split('.');
  parts[3] = Buffer.from('other').toString('base64url');
  assert.throws(() => s.open(parts.join('.')));
  assert.throws(() => sealedText(memoryFile()).open(sealed));
  assert.equal(s.open('plain-old-row'), 'plain-old-row');
});
