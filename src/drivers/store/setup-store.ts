import { type Db, stmt } from '../db.ts';

export interface SetupRow {
  token_hash: string | null;
  token_created_at: string | null;
  completed_at: string | null;
}

export class SetupStore {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
    db.prepare('INSERT OR IGNORE INTO setup (id) VALUES (1)').run();
  }

  get(): SetupRow {
    return stmt(
      this.#db,
      'SELECT token_hash, token_created_at, completed_at FROM setup WHERE id = 1',
    ).get() as unknown as SetupRow;
  }

  setTokenHash(hash: string): void {
    stmt(this.#db, 'UPDATE setup SET token_hash = ?, token_created_at = ? WHERE id = 1').run(
      hash,
      new Date().toISOString(),
    );
  }

  markCompleted(): void {
    stmt(this.#db, 'UPDATE setup SET completed_at = ?, token_hash = NULL WHERE id = 1').run(
      new Date().toISOString(),
    );
  }
}
