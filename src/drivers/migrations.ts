// Append-only, numbered schema migrations. Never edit a released entry: add a new one.
// test: src/drivers/db.test.ts applies each to an empty database and to the schema before it.

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'foundation',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE config (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        current TEXT NOT NULL,
        applied TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE setup (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        token_hash TEXT,
        token_created_at TEXT,
        completed_at TEXT
      );
      CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('admin', 'peer')),
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        password_changed_at TEXT NOT NULL
      );
      CREATE TABLE sessions (
        id_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        csrf_token TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        source TEXT NOT NULL
      );
      CREATE INDEX sessions_user ON sessions(user_id);
      CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        ts TEXT NOT NULL,
        username TEXT,
        role TEXT,
        source TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT,
        outcome TEXT NOT NULL,
        status INTEGER,
        detail TEXT
      );
      CREATE INDEX audit_ts ON audit(ts);
    `,
  },
];
