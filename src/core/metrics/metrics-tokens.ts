// The bearer token a Prometheus server scrapes /metrics with. Created by the owner in Settings and
// shown once; only its SHA-256 is stored (the token is 256 random bits, so a fast hash is enough:
// there is nothing to brute-force). A new token replaces the old one.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface MetricsTokenRecord {
  hash: string;
  createdAt: string;
}

export interface MetricsTokenRepository {
  get(): MetricsTokenRecord | undefined;
  set(record: MetricsTokenRecord): void;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

export class MetricsTokens {
  readonly #repo: MetricsTokenRepository;
  readonly #now: () => Date;
  constructor(repo: MetricsTokenRepository, now: () => Date = () => new Date()) {
    this.#repo = repo;
    this.#now = now;
  }

  create(): { token: string; created_at: string } {
    const token = `picm_${randomBytes(32).toString('base64url')}`;
    const createdAt = this.#now().toISOString();
    this.#repo.set({ hash: sha256(token).toString('hex'), createdAt });
    return { token, created_at: createdAt };
  }

  status(): { configured: boolean; created_at: string | null } {
    const r = this.#repo.get();
    return { configured: r !== undefined, created_at: r?.createdAt ?? null };
  }

  /** Checks an `Authorization` header value (`Bearer <token>`); false when no token was created. */
  verify(authorization: string | undefined): boolean {
    const stored = this.#repo.get();
    if (!stored || !authorization || authorization.length > 512) return false;
    const m = /^Bearer +([A-Za-z0-9_-]+)$/.exec(authorization.trim());
    if (!m) return false;
    const want = Buffer.from(stored.hash, 'hex');
    const got = sha256(m[1]!);
    return want.length === got.length && timingSafeEqual(want, got);
  }
}
