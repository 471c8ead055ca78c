// Argon2id (crypto.argon2) in PHC string form. A semaphore caps concurrent hashes so a login flood
// queues instead of exhausting memory (each hash takes ~19 MiB) and starving /health.
import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';

export interface Argon2Params {
  memory: number; // KiB
  passes: number;
  parallelism: number;
}

// OWASP's 2024 recommendation for Argon2id: m=19 MiB, t=2, p=1.
export const DEFAULT_PARAMS: Argon2Params = { memory: 19456, passes: 2, parallelism: 1 };

class Semaphore {
  #free: number;
  readonly #waiting: Array<() => void> = [];
  constructor(n: number) {
    this.#free = n;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

const limiter = new Semaphore(2);

function rawHash(password: string, salt: Buffer, p: Argon2Params): Promise<Buffer> {
  return limiter.run(
    () =>
      new Promise((resolve, reject) =>
        argon2(
          'argon2id',
          {
            message: password,
            nonce: salt,
            parallelism: p.parallelism,
            tagLength: 32,
            memory: p.memory,
            passes: p.passes,
          },
          (err, key) => (err ? reject(err) : resolve(key)),
        ),
      ),
  );
}

const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

export async function hashPassword(password: string, p: Argon2Params = DEFAULT_PARAMS): Promise<string> {
  const salt = randomBytes(16);
  const tag = await rawHash(password, salt, p);
  return `$argon2id$v=19$m=${p.memory},t=${p.passes},p=${p.parallelism}$${b64(salt)}$${b64(tag)}`;
}

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const m = PHC.exec(encoded);
  if (!m) return false;
  const params = { memory: Number(m[1]), passes: Number(m[2]), parallelism: Number(m[3]) };
  const salt = Buffer.from(m[4]!, 'base64');
  const expected = Buffer.from(m[5]!, 'base64');
  const actual = await rawHash(password, salt, params);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A real hash of a random password: verifying against it costs what a real account costs. */
let dummy: Promise<string> | undefined;
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  return dummy;
}

export function randomPassword(): string {
  // 20 characters from an unambiguous alphabet: ~115 bits.
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(20);
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
}
