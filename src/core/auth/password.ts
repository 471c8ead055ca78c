// Argon2id (crypto.argon2) in PHC string form. Each hasher's semaphore caps its concurrent hashes so a
// login flood queues instead of exhausting memory (each hash takes ~19 MiB) and starving /health. The
// composition root makes the one hasher of a cell and hands it to the services that hash.
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

export interface PasswordHasher {
  hash(password: string, p?: Argon2Params): Promise<string>;
  /** False for a wrong password and for any malformed or foreign hash; never throws. */
  verify(password: string, encoded: string): Promise<boolean>;
  /** Argon2 computations this hasher started: lets tests prove a refusal came before any hashing. */
  readonly stats: { readonly calls: number };
}

const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** A hasher running at most `concurrency` Argon2 computations at a time (default 2). */
export function createPasswordHasher({ concurrency = 2 }: { concurrency?: number } = {}): PasswordHasher {
  const limiter = new Semaphore(concurrency);
  const stats = { calls: 0 };
  const rawHash = (password: string, salt: Buffer, p: Argon2Params): Promise<Buffer> => {
    stats.calls++;
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
  };
  return {
    stats,
    async hash(password, p = DEFAULT_PARAMS) {
      const salt = randomBytes(16);
      const tag = await rawHash(password, salt, p);
      return `$argon2id$v=19$m=${p.memory},t=${p.passes},p=${p.parallelism}$${b64(salt)}$${b64(tag)}`;
    },
    async verify(password, encoded) {
      const m = PHC.exec(encoded);
      if (!m) return false;
      const params = { memory: Number(m[1]), passes: Number(m[2]), parallelism: Number(m[3]) };
      const salt = Buffer.from(m[4]!, 'base64');
      const expected = Buffer.from(m[5]!, 'base64');
      let actual: Buffer;
      try {
        actual = await rawHash(password, salt, params);
      } catch {
        return false; // parameters Argon2 refuses: a damaged stored hash matches nothing
      }
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    },
  };
}

/**
 * A well-formed hash with the production parameters and a random salt and tag: verifying any password
 * against it costs exactly one Argon2 run, what a real account costs, and always fails. Built without
 * hashing, so the first unknown-user login is not slower than the next ones.
 */
const dummy = `$argon2id$v=19$m=${DEFAULT_PARAMS.memory},t=${DEFAULT_PARAMS.passes},p=${DEFAULT_PARAMS.parallelism}$${b64(randomBytes(16))}$${b64(randomBytes(32))}`;
export function dummyHash(): string {
  return dummy;
}

export function randomPassword(): string {
  // 20 characters from an unambiguous alphabet: ~115 bits.
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(20);
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
}
