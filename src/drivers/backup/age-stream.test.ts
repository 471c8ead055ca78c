// age-stream.ts against age-encryption's own STREAM (JavaScript, the reference it replaced): what one
// writes the other reads, byte for byte, at the sizes where STREAM has edge cases (empty, one byte,
// exactly one chunk, one byte over, and past 256 chunks, where the counter carries into its second byte).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { Decrypter, Encrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { AgeError, ageDecrypt, ageEncrypter } from './age-stream.ts';

const root = mkdtempSync(join(tmpdir(), 'pic-age-stream-'));
after(() => rmSync(root, { recursive: true, force: true }));

const CHUNK = 64 * 1024;
const SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 257 * CHUNK + 5];
const PASS = 'correct horse battery staple';
let n = 0;

/** Runs the plaintext through ageEncrypter in uneven pieces (as gzip hands them over); the file's bytes. */
async function encryptHere(plain: Buffer, key: Parameters<typeof ageEncrypter>[0]): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let at = 0; at < plain.length; ) {
    const len = Math.min(plain.length - at, 1 + ((at * 7919) % 150_000));
    pieces.push(plain.subarray(at, at + len));
    at += len;
  }
  const out: Buffer[] = [];
  for await (const c of Readable.from(pieces).pipe(await ageEncrypter(key))) out.push(c as Buffer);
  return Buffer.concat(out);
}

async function decryptHere(file: Buffer, key: Parameters<typeof ageDecrypt>[1]): Promise<Buffer> {
  const path = join(root, `f${n++}`);
  writeFileSync(path, file);
  const out: Buffer[] = [];
  for await (const c of await ageDecrypt(path, key)) out.push(c as Buffer);
  return Buffer.concat(out);
}

describe('age-stream and age-encryption read each other', async () => {
  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);

  for (const size of SIZES)
    test(`${size} bytes`, async () => {
      const plain = randomBytes(size);
      // ours → theirs (X25519), theirs → ours (X25519)
      const d = new Decrypter();
      d.addIdentity(identity);
      assert.ok(
        Buffer.from(await d.decrypt(await encryptHere(plain, { recipients: [recipient] }))).equals(plain),
      );
      const e = new Encrypter();
      e.addRecipient(recipient);
      assert.ok(
        (await decryptHere(Buffer.from(await e.encrypt(plain)), { identities: [identity] })).equals(plain),
      );
    });

  test('passphrases both ways (scrypt at a low work factor), a wrong one refused as such', async () => {
    const plain = randomBytes(2 * CHUNK + 3);
    const ours = await encryptHere(plain, { passphrase: PASS, workFactor: 10 });
    assert.match(ours.subarray(0, 200).toString('latin1'), /\n-> scrypt [A-Za-z0-9+/]{22} 10\n/);
    const d = new Decrypter();
    d.addPassphrase(PASS);
    assert.ok(Buffer.from(await d.decrypt(ours)).equals(plain));
    const e = new Encrypter();
    e.setPassphrase(PASS);
    e.setScryptWorkFactor(10);
    const theirs = Buffer.from(await e.encrypt(plain));
    assert.ok((await decryptHere(theirs, { passphrase: PASS })).equals(plain));
    await assert.rejects(decryptHere(theirs, { passphrase: 'not it' }), (err: unknown) => {
      assert.ok(err instanceof AgeError && err.wrongKey, String(err));
      return true;
    });
  });

  test('a passphrase and recipients together are refused, as age-encryption refuses them', async () => {
    await assert.rejects(
      ageEncrypter({ passphrase: PASS, recipients: [recipient] }),
      /both recipients and passphrases/,
    );
  });
});
