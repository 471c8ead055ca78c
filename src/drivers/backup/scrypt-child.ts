// age's scrypt key, derived in a short-lived child process: scrypt at age's work factor 18 needs
// 128 · r · N = 256 MiB for ~0.8 s, which in the API's own process was its peak RSS (257 MiB above idle
// against the 64 MiB goal, docs/performance.md). The child (scrypt-child-main.ts) is this Node binary
// running one file of ours: no execArgv (the API's --max-semi-space-size has nothing to do there), an
// empty environment, and the passphrase on its stdin, never in its argv or environment, which other
// users of the machine can read in /proc. The 32-byte key comes back on its stdout. Bounded: a child
// still running after the timeout is killed.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export class ScryptChildError extends Error {
  constructor(message: string) {
    super(`the passphrase's key derivation (scrypt) failed: ${message}`);
    this.name = 'ScryptChildError';
  }
}

/** The child's script: beside this file in the repository and in cell-api's image (src/ is copied). */
export const SCRYPT_CHILD_SCRIPT = join(import.meta.dirname, 'scrypt-child-main.ts');
/** Far above scrypt's ~0.8 s at 18 (~3.5 s at 20, the highest accepted) on a busy 2-core machine. */
export const SCRYPT_CHILD_TIMEOUT_MS = 60_000;
const KEY_BYTES = 32;
/** What the child may say on stderr that the error keeps (its one line). */
const MAX_STDERR = 1024;

export interface ScryptChildOptions {
  timeoutMs?: number;
}

/**
 * scrypt(passphrase, "age-encryption.org/v1/scrypt" || salt, N = 2^logN, r = 8, p = 1, 32 bytes), in a
 * child process. Rejects with ScryptChildError when the child cannot start, fails, or runs too long.
 */
export function ageScryptKey(
  passphrase: string,
  salt: Uint8Array,
  logN: number,
  opts: ScryptChildOptions = {},
): Promise<Buffer> {
  const timeoutMs = opts.timeoutMs ?? SCRYPT_CHILD_TIMEOUT_MS;
  return new Promise<Buffer>((resolve, reject) => {
    const child = spawn(process.execPath, [SCRYPT_CHILD_SCRIPT], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {},
      windowsHide: true,
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let settled = false;
    const done = (e: ScryptChildError | null, key?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (e) reject(e);
      else resolve(key!);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done(new ScryptChildError(`it ran longer than ${Math.round(timeoutMs / 1000)} s and was stopped`));
    }, timeoutMs);
    child.on('error', (e) => {
      child.kill('SIGKILL');
      done(new ScryptChildError(`its process did not start (${e.message})`));
    });
    child.stdout.on('data', (c: Buffer) => {
      outBytes += c.length;
      if (outBytes <= KEY_BYTES) out.push(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      if (err.length < MAX_STDERR) err += c.toString('utf8');
    });
    // A child gone before reading its stdin: the exit below says why.
    child.stdin.on('error', () => {});
    child.on('close', (code, signal) => {
      if (code === 0 && outBytes === KEY_BYTES) return done(null, Buffer.concat(out));
      const said = err.split('\n')[0]?.slice(0, 200).trim();
      const how = signal ? `signal ${signal}` : `code ${code}`;
      done(
        new ScryptChildError(
          code === 0
            ? `its process returned ${outBytes} bytes, not ${KEY_BYTES}`
            : `its process exited with ${how}${said ? ` (${said})` : ''}`,
        ),
      );
    });
    child.stdin.end(JSON.stringify({ passphrase, salt: Buffer.from(salt).toString('base64'), logN }));
  });
}
