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
  {
    version: 2,
    name: 'peers',
    sql: `
      CREATE TABLE peers (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        address TEXT NOT NULL UNIQUE,
        public_key TEXT NOT NULL UNIQUE,
        private_key TEXT,
        preshared_key TEXT NOT NULL,
        routing TEXT NOT NULL CHECK (routing IN ('full', 'split')),
        services TEXT NOT NULL,
        internet INTEGER NOT NULL,
        peer_to_peer INTEGER NOT NULL,
        enabled INTEGER NOT NULL,
        expires_at TEXT,
        account INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE peer_address_holds (address TEXT PRIMARY KEY, held_at TEXT NOT NULL);
      CREATE TABLE peer_traffic (
        peer_id INTEGER NOT NULL REFERENCES peers(id) ON DELETE CASCADE,
        ts INTEGER NOT NULL,
        rx INTEGER NOT NULL,
        tx INTEGER NOT NULL,
        handshake INTEGER,
        PRIMARY KEY (peer_id, ts)
      );
      CREATE INDEX peer_traffic_ts ON peer_traffic(ts);
      CREATE TABLE peer_config_links (
        token_hash TEXT PRIMARY KEY,
        peer_id INTEGER NOT NULL REFERENCES peers(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
      );
    `,
  },
  {
    version: 3,
    name: 'metrics token',
    sql: `
      CREATE TABLE metrics_token (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        hash TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'two-factor login',
    sql: `
      CREATE TABLE user_totp (
        user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        secret TEXT,
        pending_secret TEXT,
        last_step INTEGER,
        enabled_at TEXT
      );
      CREATE TABLE user_recovery_codes (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        code_hash TEXT NOT NULL,
        used_at TEXT,
        PRIMARY KEY (user_id, code_hash)
      );
    `,
  },
  {
    version: 5,
    name: 'anonymous refusals aggregated apart from the audit trail',
    sql: `
      CREATE TABLE audit_anon (
        id INTEGER PRIMARY KEY,
        minute TEXT NOT NULL,
        source TEXT NOT NULL,
        count INTEGER NOT NULL,
        last_action TEXT NOT NULL,
        last_status INTEGER,
        last_target TEXT,
        UNIQUE (source, minute)
      );
      CREATE INDEX audit_anon_minute ON audit_anon(minute);
    `,
  },
  {
    version: 6,
    name: 'vault_certificates',
    sql: `
      CREATE TABLE vault_certificates (
        id INTEGER PRIMARY KEY,
        serial TEXT NOT NULL UNIQUE,
        common_name TEXT NOT NULL,
        sans TEXT NOT NULL,
        purpose TEXT NOT NULL CHECK (purpose IN ('issued', 'server')),
        certificate TEXT NOT NULL,
        not_before TEXT NOT NULL,
        not_after TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT,
        reason TEXT
      );
      CREATE TABLE vault_crl (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        number INTEGER NOT NULL,
        this_update TEXT NOT NULL,
        next_update TEXT NOT NULL,
        der BLOB NOT NULL
      );
    `,
  },
  // Dynamic DNS, kept last and self-contained so it can be renumbered when branches merge (planned
  // as 8 after the DNS records' 7). The token is not here: it is a 0600 file under data/secrets/ddns/.
  {
    version: 7,
    name: 'dynamic dns settings and publisher state',
    sql: `
      CREATE TABLE ddns (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        provider TEXT NOT NULL,
        hostname TEXT NOT NULL,
        zone_id TEXT,
        api_url TEXT,
        ip_echo_urls TEXT NOT NULL DEFAULT '[]',
        last_ip TEXT,
        last_update TEXT,
        last_error TEXT,
        failures INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        stopped INTEGER NOT NULL DEFAULT 0 CHECK (stopped IN (0, 1)),
        record_id TEXT
      );
    `,
  },
  {
    // Planned as 7; 8 after the dynamic DNS migration merged first. Self-contained (no reference to
    // another table).
    version: 8,
    name: 'dns records',
    sql: `
      CREATE TABLE dns_records (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        type TEXT NOT NULL CHECK (type IN ('A', 'AAAA', 'CNAME', 'TXT', 'MX', 'SRV')),
        value TEXT NOT NULL,
        ttl INTEGER NOT NULL CHECK (ttl >= 0),
        created_at TEXT NOT NULL,
        UNIQUE (name, type, value)
      );
      CREATE INDEX dns_records_name ON dns_records(name);
    `,
  },
  {
    // TLS through ACME (ADR 0019). Self-contained so it can be renumbered when branches merge. The
    // account key, the EAB HMAC key and the certificates are 0600 files under data/secrets/tls/.
    version: 9,
    name: 'acme settings and renewal state',
    sql: `
      CREATE TABLE tls (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        directory_url TEXT,
        email TEXT,
        eab_kid TEXT,
        challenge TEXT NOT NULL DEFAULT 'auto' CHECK (challenge IN ('auto', 'dns-01', 'http-01')),
        last_renewal TEXT,
        last_error TEXT,
        failures INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER
      );
    `,
  },
  {
    version: 10,
    name: 'dns blocklists',
    sql: `
      CREATE TABLE dns_blocklists (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('url', 'upload')),
        source TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
        -- The parsed names, one a line (validated: see schema/blocklists.ts).
        domains TEXT NOT NULL DEFAULT '',
        domain_count INTEGER NOT NULL DEFAULT 0,
        invalid_count INTEGER NOT NULL DEFAULT 0,
        fetched_at TEXT,
        last_error TEXT,
        created_at TEXT NOT NULL
      );
      -- On by default (ADR 0020): nothing is blocked until the owner adds a list.
      ALTER TABLE peers ADD COLUMN blocklists INTEGER NOT NULL DEFAULT 1 CHECK (blocklists IN (0, 1));
    `,
  },
  {
    // Scheduled backups and their targets (ADR 0022). Self-contained so it can be renumbered when
    // branches merge. Secrets (the passphrase, each target's secret access key) are 0600 files under
    // data/secrets/backup/, never here.
    version: 11,
    name: 'backup schedule and targets',
    sql: `
      CREATE TABLE backup_schedule (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        enabled INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
        hour INTEGER NOT NULL DEFAULT 3 CHECK (hour BETWEEN 0 AND 23),
        keep_daily INTEGER NOT NULL DEFAULT 7 CHECK (keep_daily BETWEEN 0 AND 60),
        keep_weekly INTEGER NOT NULL DEFAULT 4 CHECK (keep_weekly BETWEEN 0 AND 52),
        recipient TEXT,
        next_run_at INTEGER,
        last_run_at TEXT,
        last_backup_id TEXT,
        last_error TEXT
      );
      CREATE TABLE backup_targets (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('directory', 's3')),
        -- The target's fields (path, or endpoint, region, bucket, prefix, access_key_id) as JSON.
        spec TEXT NOT NULL,
        created_at TEXT NOT NULL,
        pending_backup_id TEXT,
        next_retry_at INTEGER,
        last_at TEXT,
        last_ok INTEGER CHECK (last_ok IN (0, 1)),
        last_error TEXT,
        last_backup_id TEXT
      );
      -- The backups the schedule made: retention considers these and nothing else.
      CREATE TABLE backup_scheduled (
        backup_id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL
      );
    `,
  },
  {
    // The store's installed services (issue 12). Self-contained so it can be renumbered when branches
    // merge. The manifest is the one recorded at install (what uninstall and the plan go by); images
    // holds the image ID each built container was pinned to, by container name, as JSON.
    version: 12,
    name: 'store services',
    sql: `
      CREATE TABLE store_services (
        id TEXT PRIMARY KEY,
        version TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('installing', 'running', 'failed')),
        virtual_ip TEXT,
        images TEXT NOT NULL DEFAULT '{}',
        manifest TEXT NOT NULL,
        installed_at TEXT NOT NULL,
        last_error TEXT
      );
    `,
  },
  {
    // Per-peer accounts on store services (issue 12, part 4): an account per (service, peer name).
    // The password is kept so the peer's dashboard can show it (the spec); no foreign key to peers:
    // a deleted peer's accounts must first be removed inside their services (AccountsService).
    version: 13,
    name: 'service accounts',
    sql: `
      CREATE TABLE service_accounts (
        service_id TEXT NOT NULL,
        username TEXT NOT NULL,
        password TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (service_id, username)
      );
    `,
  },
  {
    // The public keys the owner trusts for signed store images (docs/store/remote-index.md), beside
    // the bundled ones (images/store/keys/). Self-contained so it can be renumbered when branches
    // merge: another branch may take 14 first — renumber on merge, never edit a released one.
    version: 14,
    name: 'store signing keys',
    sql: `
      CREATE TABLE store_keys (
        id TEXT PRIMARY KEY CHECK (length(id) = 64),
        pem TEXT NOT NULL,
        added_at TEXT NOT NULL
      );
    `,
  },
  {
    // A store service's manifest hooks (issue 13): its settings (non-secret values as JSON; secrets
    // sealed as one JSON object under service-settings.key), the DNS records its `dns_records` hook
    // listed (served in the cell's zone), and what was last written into its TLS volume (renewal).
    // Self-contained so it can be renumbered when branches merge.
    version: 15,
    name: 'service hooks',
    sql: `
      CREATE TABLE service_settings (
        service_id TEXT PRIMARY KEY,
        settings TEXT NOT NULL DEFAULT '{}',
        secrets TEXT,
        applied INTEGER NOT NULL DEFAULT 0,
        apply_error TEXT,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE service_dns_records (
        service_id TEXT NOT NULL,
        name TEXT NOT NULL,
        type TEXT NOT NULL CHECK (type IN ('MX', 'TXT', 'SRV')),
        value TEXT NOT NULL,
        ttl INTEGER NOT NULL,
        PRIMARY KEY (service_id, name, type, value)
      );
      CREATE TABLE service_tls (
        service_id TEXT PRIMARY KEY,
        domain TEXT NOT NULL,
        names TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('local', 'acme', 'none')),
        not_after TEXT,
        written_at TEXT NOT NULL
      );
    `,
  },
  {
    // The blocklist's blocked queries per peer (ADR 0020, amendment): per hour, per peer address and per
    // name, a count; kept 30 days (BLOCKED_RETENTION_DAYS). Never a query's time or an answered query.
    // Self-contained so it can be renumbered when branches merge.
    version: 16,
    name: 'dns blocked queries',
    sql: `
      CREATE TABLE dns_blocked_hourly (
        hour INTEGER NOT NULL,
        address TEXT NOT NULL,
        peer TEXT,
        name TEXT NOT NULL,
        count INTEGER NOT NULL CHECK (count > 0),
        PRIMARY KEY (hour, address, name)
      ) WITHOUT ROWID;
      CREATE TABLE dns_blocked_meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        reset_at TEXT NOT NULL
      );
      INSERT INTO dns_blocked_meta (id, reset_at) VALUES (1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
    `,
  },
];
