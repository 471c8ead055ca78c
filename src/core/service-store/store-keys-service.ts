// The public keys a signed store image may be signed by (ADR 0007, docs/store/remote-index.md): the
// keys bundled with PIC (images/store/keys/*.pub, read at start) plus the keys the owner adds. Only
// ECDSA P-256 public keys (cosign's key pairs) are taken. A key is named by the sha256 of its SPKI,
// so the same key in another PEM spelling is the same key (409). verifyImage asks trusted() at each
// install: a key added or deleted counts from the next install on, without a restart.

import type { StoreKey } from '../../schema/store-keys.ts';
import { AppError } from '../errors.ts';
import type { StoreKeysRepository } from '../ports/store-keys.ts';
import { CosignFormatError, type TrustedKey, trustedKeys } from './cosign.ts';

export interface StoreKeysDeps {
  repo: StoreKeysRepository;
  /** The bundled keys' PEM texts (none today). */
  bundled: readonly string[];
  now?: () => Date;
}

interface Parsed {
  trusted: TrustedKey;
  pem: string;
}

function parse(pem: string): Parsed {
  const [trusted] = trustedKeys([pem]);
  const spki = trusted!.key.export({ type: 'spki', format: 'pem' }).toString();
  return { trusted: trusted!, pem: spki };
}

export class StoreKeysService {
  readonly #d: StoreKeysDeps;
  readonly #bundled: Parsed[];

  constructor(deps: StoreKeysDeps) {
    this.#d = deps;
    // A bundled key that does not parse is a bug in this repository: said at start, by position.
    this.#bundled = deps.bundled.map((pem, i) => {
      try {
        return parse(pem);
      } catch (err) {
        throw new Error(`bundled store key ${i + 1} is unusable: ${(err as Error).message}`);
      }
    });
  }

  list(): { keys: StoreKey[] } {
    const bundled = this.#bundled.map((b) => ({
      id: b.trusted.id,
      pem: b.pem,
      added_at: null,
      bundled: true,
    }));
    const owned = this.#d.repo
      .list()
      .filter((r) => !bundled.some((b) => b.id === r.id))
      .map((r) => ({ id: r.id, pem: r.pem, added_at: r.addedAt, bundled: false }));
    return { keys: [...bundled, ...owned] };
  }

  add(pem: string): StoreKey {
    let p: Parsed;
    try {
      p = parse(pem);
    } catch (err) {
      const message =
        err instanceof CosignFormatError && /not an ECDSA P-256/.test(err.message)
          ? 'must be an ECDSA P-256 public key (cosign.pub); other key types are not accepted'
          : 'must be a PEM public key (-----BEGIN PUBLIC KEY-----)';
      throw new AppError('validation_failed', 'Invalid pem', { fields: [{ field: 'pem', message }] });
    }
    const id = p.trusted.id;
    if (this.#bundled.some((b) => b.trusted.id === id) || this.#d.repo.get(id))
      throw new AppError('conflict', `the key ${id} is trusted already`);
    const addedAt = (this.#d.now?.() ?? new Date()).toISOString();
    this.#d.repo.add({ id, pem: p.pem, addedAt });
    return { id, pem: p.pem, added_at: addedAt, bundled: false };
  }

  remove(id: string): void {
    if (this.#bundled.some((b) => b.trusted.id === id))
      throw new AppError('conflict', `the key ${id} is bundled with PIC and cannot be deleted`);
    if (!this.#d.repo.remove(id)) throw new AppError('not_found', `no trusted key ${id}`);
  }

  /** Every key a store image may be signed by, read now (each install asks again). */
  trusted(): TrustedKey[] {
    const owned = this.#d.repo.list().flatMap((r) => {
      // A row a crafted restore carried that does not parse is not trusted (and not fatal).
      try {
        return [parse(r.pem).trusted];
      } catch {
        return [];
      }
    });
    return [...this.#bundled.map((b) => b.trusted), ...owned];
  }
}
