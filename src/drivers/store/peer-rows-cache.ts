// The peers table as an in-memory snapshot, one per database connection, so that applying one change
// at 1000 peers reads the changed row instead of all 1000 (reading and converting every row cost
// about 10 ms an add). It can never serve stale rows:
// - changes made through PeersStore mark their row, which is read again on the next use (whether the
//   transaction committed or rolled back: the row is read as it now is);
// - any other change on this connection (raw SQL) bumps a counter kept by temporary triggers, and any
//   commit by another connection (`pic peers add` beside `pic serve`) changes PRAGMA data_version:
//   either makes the next use reload everything.
import type { PeerRow, PeerSecrets } from '../../core/peers/peers-repository.ts';
import { type Db, stmt } from '../db.ts';

type Raw = Record<string, unknown>;

export function toRow(r: Raw): PeerRow {
  return {
    id: Number(r.id),
    name: String(r.name),
    address: String(r.address),
    public_key: String(r.public_key),
    routing: r.routing as PeerRow['routing'],
    services: JSON.parse(String(r.services)),
    internet: r.internet === 1,
    peer_to_peer: r.peer_to_peer === 1,
    blocklists: r.blocklists !== 0,
    enabled: r.enabled === 1,
    expires_at: (r.expires_at as string | null) ?? null,
    account: r.account === 1,
    has_private_key: r.has_private_key === 1,
    created_at: String(r.created_at),
    updated_at: String(r.updated_at),
  };
}

const secretsOf = (r: Raw): PeerSecrets => ({
  private_key: (r.private_key as string | null) ?? null,
  preshared_key: String(r.preshared_key),
});

const caches = new WeakMap<Db, PeerRowsCache>();

export class PeerRowsCache {
  static readonly COLUMNS =
    'id, name, address, public_key, routing, services, internet, peer_to_peer, blocklists, enabled, expires_at, account, private_key IS NOT NULL AS has_private_key, created_at, updated_at';

  /** The one snapshot of this connection (every PeersStore on it shares it). */
  static of(db: Db): PeerRowsCache {
    let c = caches.get(db);
    if (!c) {
      c = new PeerRowsCache(db);
      caches.set(db, c);
    }
    return c;
  }

  readonly #db: Db;
  readonly #entries = new Map<number, { row: PeerRow; secrets: PeerSecrets }>();
  #sorted: PeerRow[] | undefined;
  #loaded = false;
  #version = -1;
  #dataVersion = -1;
  readonly #dirty = new Set<number>();

  private constructor(db: Db) {
    this.#db = db;
    db.exec(`
      CREATE TEMP TABLE IF NOT EXISTS pic_peers_version (v INTEGER NOT NULL);
      INSERT INTO pic_peers_version SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM pic_peers_version);
      CREATE TEMP TRIGGER IF NOT EXISTS pic_peers_ins AFTER INSERT ON main.peers
        BEGIN UPDATE pic_peers_version SET v = v + 1; END;
      CREATE TEMP TRIGGER IF NOT EXISTS pic_peers_upd AFTER UPDATE ON main.peers
        BEGIN UPDATE pic_peers_version SET v = v + 1; END;
      CREATE TEMP TRIGGER IF NOT EXISTS pic_peers_del AFTER DELETE ON main.peers
        BEGIN UPDATE pic_peers_version SET v = v + 1; END;
    `);
  }

  #versions(): { v: number; dv: number } {
    const v = (stmt(this.#db, 'SELECT v FROM temp.pic_peers_version').get() as { v: number }).v;
    const dv = (stmt(this.#db, 'PRAGMA data_version').get() as { data_version: number }).data_version;
    return { v, dv };
  }

  /** Runs one of PeersStore's own writes: a change by anyone else before it still forces a reload. */
  write<T>(fn: () => T): T {
    const before = this.#versions();
    if (before.v !== this.#version || before.dv !== this.#dataVersion) this.#loaded = false;
    const result = fn();
    const after = this.#versions();
    this.#version = after.v;
    this.#dataVersion = after.dv;
    return result;
  }

  /** PeersStore changed (or may have changed) this row: read it again on the next use. */
  changed(id: number): void {
    this.#dirty.add(id);
    this.#sorted = undefined;
  }

  #fresh(): void {
    const { v, dv } = this.#versions();
    if (!this.#loaded || v !== this.#version || dv !== this.#dataVersion) {
      this.#entries.clear();
      const sql = `SELECT ${PeerRowsCache.COLUMNS}, private_key, preshared_key FROM peers`;
      for (const r of stmt(this.#db, sql).all() as Raw[])
        this.#entries.set(Number(r.id), { row: toRow(r), secrets: secretsOf(r) });
      this.#dirty.clear();
      this.#sorted = undefined;
      this.#loaded = true;
      this.#version = v;
      this.#dataVersion = dv;
      return;
    }
    if (this.#dirty.size === 0) return;
    const one = stmt(
      this.#db,
      `SELECT ${PeerRowsCache.COLUMNS}, private_key, preshared_key FROM peers WHERE id = ?`,
    );
    for (const id of this.#dirty) {
      const r = one.get(id) as Raw | undefined;
      if (r) this.#entries.set(id, { row: toRow(r), secrets: secretsOf(r) });
      else this.#entries.delete(id);
    }
    // Inside a transaction the rows may still roll back: read them again after it ends.
    if (!this.#db.isTransaction) this.#dirty.clear();
    this.#sorted = undefined;
  }

  /** Every row in name order (the same order as ORDER BY name: names are ASCII DNS labels). */
  rows(): readonly PeerRow[] {
    this.#fresh();
    this.#sorted ??= [...this.#entries.values()]
      .map((e) => e.row)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return this.#sorted;
  }

  secrets(): Map<number, PeerSecrets> {
    this.#fresh();
    return new Map([...this.#entries].map(([id, e]) => [id, e.secrets]));
  }
}
