// The scrypt stanza PIC writes and reads (age-scrypt.ts, its key from the child process): a published
// vector (C2SP CCTV's `scrypt`, whose file key is known), age-encryption's own scrypt recipient and
// identity (pure JavaScript) in both directions, and every malformed stanza refused.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Decrypter, Encrypter, Stanza } from 'age-encryption';
import { scryptIdentity, scryptRecipient } from './age-scrypt.ts';

const b64 = (s: string) => Buffer.from(s, 'base64');
/** CCTV `scrypt`: passphrase "password", work factor 10, file key "YELLOW SUBMARINE". */
const SALT = 'rF0/NwblUHHTpgQgRpe5CQ';
const BODY = b64('gUjEymFKMVXQEKdMMHL24oYexjE3TIC0O0zGSqJ2aUY');
const FILE_KEY = Buffer.from('59454c4c4f57205355424d4152494e45', 'hex');
const stanza = (args: string[], body: Uint8Array = BODY) => new Stanza(args, body);

describe('age scrypt stanza', () => {
  test("CCTV's scrypt vector: the file key comes out; a wrong passphrase or tag is no match", async () => {
    const key = await scryptIdentity('password').unwrapFileKey([stanza(['scrypt', SALT, '10'])]);
    assert.deepEqual(Buffer.from(key!), FILE_KEY);
    assert.equal(await scryptIdentity('wrong').unwrapFileKey([stanza(['scrypt', SALT, '10'])]), null);
    const badTag = Buffer.from(BODY);
    badTag[31]! ^= 1;
    assert.equal(
      await scryptIdentity('password').unwrapFileKey([stanza(['scrypt', SALT, '10'], badTag)]),
      null,
    );
    // Another type's stanza is not ours to judge.
    assert.equal(await scryptIdentity('password').unwrapFileKey([stanza(['Scrypt', SALT, '10'])]), null);
  });

  test('malformed stanzas are refused before any key is derived', async () => {
    const refused: [string[], Uint8Array, RegExp][] = [
      [['scrypt', SALT, '23'], BODY, /work factor is too high/],
      [['scrypt', SALT, '21'], BODY, /work factor is too high/],
      [['scrypt', SALT, '9223372036854775818'], BODY, /work factor is too high/],
      [['scrypt', SALT, '0'], BODY, /invalid scrypt stanza/],
      [['scrypt', SALT, '010'], BODY, /invalid scrypt stanza/],
      [['scrypt', SALT, '0xa'], BODY, /invalid scrypt stanza/],
      [['scrypt', SALT, '+10'], BODY, /invalid scrypt stanza/],
      [['scrypt', SALT, '-10'], BODY, /invalid scrypt stanza/],
      [['scrypt', SALT], BODY, /invalid scrypt stanza/],
      [['scrypt', SALT, '10', '10'], BODY, /invalid scrypt stanza/],
      [['scrypt', '10'], BODY, /invalid scrypt stanza/],
      [['scrypt', 'rF0/NwblUHHTpgQgRpe5CR', '10'], BODY, /invalid scrypt stanza/],
      [['scrypt', 'rF0/NwblUHHTpgQg', '10'], BODY, /invalid scrypt stanza/],
      [['scrypt', 'rF0/NwblUHHTpgQgRpe5CRs1xuY', '10'], BODY, /invalid scrypt stanza/],
      [['scrypt', `${SALT}==`, '10'], BODY, /invalid scrypt stanza/],
      [['scrypt', SALT, '10'], Buffer.concat([BODY, Buffer.alloc(8)]), /invalid stanza/],
    ];
    // A child that could not start would fail with its own message: none is started for these.
    const execPath = process.execPath;
    process.execPath = '/nonexistent/node';
    try {
      for (const [args, body, why] of refused)
        await assert.rejects(
          Promise.resolve(scryptIdentity('password').unwrapFileKey([stanza(args, body)])),
          why,
          args.join(' '),
        );
    } finally {
      process.execPath = execPath;
    }
    const two = [stanza(['scrypt', SALT, '10']), stanza(['scrypt', 'GzXG5ofdANo6w3msn3QsIQ', '10'])];
    await assert.rejects(Promise.resolve(scryptIdentity('password').unwrapFileKey(two)), /not the only one/);
    const mixed = [
      stanza(['X25519', 'ajtqAvDEkVNr2B7zUOtq2mAQXDSBlNrVAuM/dKb5sT4']),
      stanza(['scrypt', SALT, '10']),
    ];
    await assert.rejects(
      Promise.resolve(scryptIdentity('password').unwrapFileKey(mixed)),
      /not the only one/,
    );
  });

  test('the stanza written: scrypt, 16 bytes of fresh salt, the work factor; it opens with the passphrase', async () => {
    const fileKey = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    let kept: Uint8Array | undefined;
    const [s, more] = await scryptRecipient('a passphrase of ours', 10, (k) => {
      kept = k;
    }).wrapFileKey(fileKey);
    assert.equal(more, undefined);
    assert.deepEqual(Buffer.from(kept!), fileKey);
    assert.equal(s!.args.length, 3);
    assert.equal(s!.args[0], 'scrypt');
    assert.match(s!.args[1]!, /^[A-Za-z0-9+/]{22}$/);
    assert.equal(s!.args[2], '10');
    assert.equal(s!.body.length, 32);
    assert.deepEqual(
      Buffer.from((await scryptIdentity('a passphrase of ours').unwrapFileKey([s!]))!),
      fileKey,
    );
    assert.equal(await scryptIdentity('another passphrase').unwrapFileKey([s!]), null);
    const [again] = await scryptRecipient('a passphrase of ours', 10, () => {}).wrapFileKey(fileKey);
    assert.notEqual(again!.args[1], s!.args[1]);
  });

  test("age-encryption's own scrypt (JavaScript) opens ours, and ours opens its", async () => {
    const pass = 'correct horse battery staple ✓';
    const plain = new TextEncoder().encode('hello from both sides');
    const e = new Encrypter();
    e.addRecipient(scryptRecipient(pass, 10, () => {}));
    const ours = await e.encrypt(plain);
    const d = new Decrypter();
    d.addPassphrase(pass);
    assert.deepEqual(await d.decrypt(ours), plain);

    const ref = new Encrypter();
    ref.setPassphrase(pass);
    ref.setScryptWorkFactor(10);
    const theirs = await ref.encrypt(plain);
    const mine = new Decrypter();
    mine.addIdentity(scryptIdentity(pass));
    assert.deepEqual(await mine.decrypt(theirs), plain);
    const wrong = new Decrypter();
    wrong.addIdentity(scryptIdentity(`${pass}!`));
    await assert.rejects(wrong.decrypt(theirs), /no identity matched/);
  });
});
