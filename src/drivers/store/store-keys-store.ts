// Thin SQL over store_keys (migration "store signing keys"): core's StoreKeysRepository.
import type { StoreKeyRow, StoreKeysRepository } from '../../core/ports/store-keys.ts';
import { type Db, stmt } from '../db.ts';

interface Row {
  id: string;
  pem: string;
  added_at: string;
}

const toRow = (r: Row): StoreKeyRow => ({ id: r.id, pem: r.pem, addedAt: r.added_at });

export class StoreKeysStore implements StoreKeysRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  list(): StoreKeyRow[] {
    return (stmt(this.#db, 'SELECT * FROM store_keys ORDER BY added_at, id').all() as unknown as Row[]).map(
      toRow,
    );
  }

  get(id: string): StoreKeyRow | undefined {
    const r = stmt(this.#db, 'SELECT * FROM store_keys WHERE id = ?').get(id) as Row | undefined;
    return r && toRow(r);
  }

  add(row: StoreKeyRow): void {
    stmt(this.#db, 'INSERT INTO store_keys (id, pem, added_at) VALUES (?, ?, ?)').run(
      row.id,
      row.pem,
      row.addedAt,
    );
  }

  remove(id: string): boolean {
    return Number(stmt(this.#db, 'DELETE FROM store_keys WHERE id = ?').run(id).changes) > 0;
  }
}
