// age files as Node streams. The header (stanzas, X25519 wrapping, the HMAC) is age-encryption's; the
// payload is OpenSSL's through node:crypto: ChaCha20-Poly1305 runs ~9× faster there than in
// JavaScript (~1 ms of the event loop per MiB). The scrypt stanza is ours (age's spec, age-encryption's
// checks) and its key is derived in a short-lived child process (scrypt-child.ts): its 256 MiB (work
// factor 18) never count in this process's memory. The payload is age's STREAM: 64 KiB chunks, each
// sealed under HKDF-SHA-256(file key, nonce, "payload") with an 11-byte big-endian counter and a last
// flag as its nonce; a chunk is released only once its tag verifies.
import { type CipherKey, createCipheriv, createDecipheriv, createSecretKey, hkdfSync } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { Decrypter, Encrypter } from 'age-encryption';
import { scryptIdentity, scryptRecipient } from './age-scrypt.ts';
import { ScryptChildError } from './scrypt-child.ts';

export class AgeError extends Error {
  readonly wrongKey: boolean;
  constructor(message: string, wrongKey = false) {
    super(message);
    this.name = 'AgeError';
    this.wrongKey = wrongKey;
  }
}

export interface AgeKey {
  passphrase?: string;
  /** age recipients (age1…). */
  recipients?: string[];
  /** scrypt's log2 work factor (default age's 18). */
  workFactor?: number;
}

const CHUNK = 64 * 1024;
const TAG = 16;
const SEALED = CHUNK + TAG;
const NONCE = 16;
/** Far above any header PIC writes or reads (one scrypt stanza, or a few X25519 ones). */
const MAX_HEADER = 1024 * 1024;

/** Seals one chunk into `out` (its ciphertext, then its tag). */
function seal(key: CipherKey, nonce: Uint8Array, plaintext: Uint8Array, out: Buffer[]): void {
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
  out.push(c.update(plaintext));
  c.final();
  out.push(c.getAuthTag());
}

/** The plaintext, or null when the tag does not verify (nothing of it is returned then). */
function unseal(key: CipherKey, nonce: Uint8Array, sealed: Uint8Array): Buffer | null {
  if (sealed.length < TAG) return null;
  const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
  d.setAuthTag(sealed.subarray(sealed.length - TAG));
  const body = d.update(sealed.subarray(0, sealed.length - TAG));
  try {
    d.final();
  } catch {
    return null;
  }
  return body;
}

/** The payload key, imported once (not again for every chunk's cipher). */
const payloadKey = (fileKey: Uint8Array, nonce: Uint8Array) =>
  createSecretKey(new Uint8Array(hkdfSync('sha256', fileKey, nonce, 'payload', 32)));

/** STREAM's nonce: the chunk counter (11 bytes, big-endian) and the last-chunk flag. */
class Counter {
  readonly nonce = new Uint8Array(12);
  next(): void {
    for (let i = 10; i >= 0; i--) {
      // Not `++nonce[i] !== 0`: that expression is 256 where the byte wraps to 0, and nothing carries.
      this.nonce[i] = (this.nonce[i]! + 1) & 0xff;
      if (this.nonce[i] !== 0) return;
    }
    throw new Error('too many chunks');
  }
  last(): Uint8Array {
    this.nonce[11] = 1;
    return this.nonce;
  }
}

type Piece = (piece: Uint8Array, out: Buffer[]) => void;

/**
 * Cuts a byte stream into pieces of `size` bytes for `each`, holding a full piece back until a byte
 * follows it (only then is it not the last) and handing what is held at the end to `last`. Bytes are
 * copied only to complete a piece that straddles two chunks; the output of one chunk goes on as one
 * buffer (`join`) or as the pieces themselves.
 */
function pieces(size: number, each: Piece, last: Piece, opts: { head?: Buffer; join: boolean }): Transform {
  const held = Buffer.allocUnsafe(size);
  let used = 0;
  let first = opts.head;
  const emit = (t: Transform, out: Buffer[], cb: TransformCallback) => {
    if (first) out.unshift(first);
    first = undefined;
    if (opts.join) return cb(null, out.length ? Buffer.concat(out) : undefined);
    for (const b of out) t.push(b);
    cb();
  };
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      const out: Buffer[] = [];
      try {
        for (let at = 0; at < chunk.length; ) {
          if (used === size) {
            each(held, out);
            used = 0;
          }
          if (used === 0 && chunk.length - at > size) {
            each(chunk.subarray(at, at + size), out);
            at += size;
            continue;
          }
          const n = Math.min(size - used, chunk.length - at);
          chunk.copy(held, used, at, at + n);
          used += n;
          at += n;
        }
      } catch (err) {
        return cb(err as Error);
      }
      emit(this, out, cb);
    },
    flush(cb: TransformCallback) {
      const out: Buffer[] = [];
      try {
        last(held.subarray(0, used), out);
      } catch (err) {
        return cb(err as Error);
      }
      emit(this, out, cb);
    },
  });
}

/**
 * A Transform from plaintext to an age file: the header and nonce first, then the sealed chunks.
 * A full chunk is sealed only once more plaintext follows it: the last one carries the flag.
 */
export async function ageEncrypter(key: AgeKey): Promise<Transform> {
  if (key.passphrase !== undefined && key.recipients?.length)
    throw new Error("can't encrypt to both recipients and passphrases");
  let fileKey: Uint8Array | undefined;
  const keep = (k: Uint8Array) => {
    fileKey = Uint8Array.from(k);
  };
  const e = new Encrypter();
  if (key.passphrase !== undefined)
    e.addRecipient(scryptRecipient(key.passphrase, key.workFactor ?? 18, keep));
  else {
    if (!key.recipients?.length) throw new Error('no passphrase and no recipient to encrypt to');
    for (const r of key.recipients) e.addRecipient(r);
    // No stanza of its own: it only sees the file key the recipients above wrap.
    e.addRecipient({
      wrapFileKey(k) {
        keep(k);
        return [];
      },
    });
  }
  // age-encryption writes the header, the payload nonce and an empty payload's one (final) chunk.
  const empty = await e.encrypt(new Uint8Array(0));
  if (!fileKey) throw new Error('age-encryption did not show the file key');
  const head = Buffer.from(empty.subarray(0, empty.length - TAG));
  const streamKey = payloadKey(fileKey, head.subarray(head.length - NONCE));
  // That chunk sealed here must be the same bytes: this payload is the one age-encryption would write.
  const check: Buffer[] = [];
  seal(streamKey, new Counter().last(), new Uint8Array(0), check);
  if (!Buffer.concat(check).equals(empty.subarray(empty.length - TAG)))
    throw new Error('the payload key does not match age-encryption');
  const counter = new Counter();
  return pieces(
    CHUNK,
    (piece, out) => {
      seal(streamKey, counter.nonce, piece, out);
      counter.next();
    },
    (piece, out) => seal(streamKey, counter.last(), piece, out),
    // Each chunk's ciphertext and tag go to the file as they are (one writev), not copied again.
    { head, join: false },
  );
}

/** The header's bytes (up to and with its '--- mac' line) and what follows, read from the file's start. */
async function readHead(file: string): Promise<{ header: Buffer; nonce: Buffer; payloadAt: number }> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(Math.min(MAX_HEADER, (await fh.stat()).size));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = buf.subarray(0, bytesRead);
    // Stanza lines start with '-> ' and bodies are base64: the first line starting '---' is the MAC's.
    const mac = head.indexOf('\n---');
    const end = mac < 0 ? -1 : head.indexOf('\n', mac + 1);
    if (end < 0) throw new AgeError(`invalid header: no '---' line in the first ${bytesRead} bytes`);
    const nonce = head.subarray(end + 1, end + 1 + NONCE);
    if (nonce.length !== NONCE) throw new AgeError('the file ends before its payload nonce');
    return { header: head.subarray(0, end + 1), nonce, payloadAt: end + 1 + NONCE };
  } finally {
    await fh.close();
  }
}

/** A Transform from the payload's sealed chunks to the plaintext; any altered or missing chunk fails. */
function stream(streamKey: CipherKey): Transform {
  const counter = new Counter();
  let index = 0;
  return pieces(
    SEALED,
    (piece, out) => {
      const plain = unseal(streamKey, counter.nonce, piece);
      if (!plain) throw new Error(`invalid tag: chunk ${index} was altered or cut`);
      out.push(plain);
      counter.next();
      index += 1;
    },
    (piece, out) => {
      const plain = unseal(streamKey, counter.last(), piece);
      if (!plain) throw new Error(`invalid tag: the last chunk (${index}) was altered or cut`);
      // age: only the first chunk may be an empty last one.
      if (index > 0 && plain.length === 0) throw new Error('final chunk is empty');
      out.push(plain);
    },
    // One piece per read for gunzip: one trip to zlib's thread for up to 1 MiB.
    { join: true },
  );
}

/**
 * Opens an age file: the header is parsed and checked (its MAC, the key) before this resolves, so a
 * wrong key fails here (AgeError, wrongKey); the plaintext then streams, chunk by verified chunk.
 */
export async function ageDecrypt(
  file: string,
  key: { passphrase?: string; identities?: string[] },
): Promise<Readable> {
  const { header, nonce, payloadAt } = await readHead(file);
  const d = new Decrypter();
  if (key.passphrase !== undefined) d.addIdentity(scryptIdentity(key.passphrase));
  for (const id of key.identities ?? []) d.addIdentity(id);
  let fileKey: Uint8Array;
  try {
    fileKey = await d.decryptHeader(header);
  } catch (err) {
    // Not the file's fault: the key could not be derived here (said as such, not as a bad header).
    if (err instanceof ScryptChildError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new AgeError(message, /no identity matched/i.test(message));
  }
  const source = createReadStream(file, { start: payloadAt, highWaterMark: 1024 * 1024 });
  const plaintext = stream(payloadKey(fileKey, nonce));
  source.on('error', (err) => plaintext.destroy(err));
  plaintext.on('close', () => source.destroy());
  return source.pipe(plaintext);
}
