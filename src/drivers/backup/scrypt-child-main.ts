// The child process of scrypt-child.ts: derives one age scrypt key and exits. Run as
// `node scrypt-child-main.ts` with no other argument and an empty environment; it reads one JSON
// object from stdin ({"passphrase", "salt" (base64 of 16 bytes), "logN"}), writes the 32-byte key to
// stdout and exits 0, or writes one line to stderr (never the passphrase) and exits 1. scrypt's
// 128 · r · N bytes (256 MiB at age's work factor 18) live in this process only, for the ~0.8 s it
// takes, and go with it: the API's own memory stays flat (ADR 0021, amendment).
// No import but node:crypto: the child starts in ~40 ms.
import { scrypt } from 'node:crypto';

/** age's label, prepended to the stanza's salt (age spec, "The scrypt recipient type"). */
const LABEL = Buffer.from('age-encryption.org/v1/scrypt');
/** As the parent's checks (age-stream.ts): refused again here, whatever the parent sent. */
const MAX_LOG_N = 20;
/** A passphrase and a salt: anything much longer is not what the parent sends. */
const MAX_INPUT = 64 * 1024;

function fail(message: string): never {
  process.stderr.write(`scrypt child: ${message}\n`);
  process.exit(1);
}

function parse(text: string): { passphrase: string; salt: Buffer; logN: number } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    fail('stdin is not JSON');
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  if (typeof o.passphrase !== 'string') fail('no passphrase');
  if (typeof o.salt !== 'string' || !/^[A-Za-z0-9+/]{22}(==)?$/.test(o.salt))
    fail('the salt is not 16 bytes');
  const salt = Buffer.from(o.salt, 'base64');
  if (salt.length !== 16) fail('the salt is not 16 bytes');
  if (typeof o.logN !== 'number' || !Number.isInteger(o.logN) || o.logN < 1 || o.logN > MAX_LOG_N)
    fail(`the work factor is not an integer from 1 to ${MAX_LOG_N}`);
  return { passphrase: o.passphrase, salt, logN: o.logN };
}

const chunks: Buffer[] = [];
let size = 0;
process.stdin.on('data', (c: Buffer) => {
  size += c.length;
  if (size > MAX_INPUT) fail('stdin is too long');
  chunks.push(c);
});
process.stdin.on('end', () => {
  const { passphrase, salt, logN } = parse(Buffer.concat(chunks).toString('utf8'));
  const N = 2 ** logN;
  scrypt(
    passphrase,
    Buffer.concat([LABEL, salt]),
    32,
    { N, r: 8, p: 1, maxmem: 2 * 128 * 8 * N },
    (err, key) => {
      if (err) fail(err.message);
      process.stdout.write(key, () => process.exit(0));
    },
  );
});
