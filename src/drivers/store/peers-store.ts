// Thin SQL over the peers tables (migration "peers"): core's PeersRepository. Private and preshared
// keys live in their columns: they must be read back to export a config, the database is 0600 in a
// 0700 directory like the other secrets' files, and one transaction then covers the peer, its address and its keys (no key file left
// behind by a crash between a file write and an insert). No method here returns them except
// `secretsOf`, which only the config renderers call.
import type {
  NewPeer,
  PeerChange,
  PeerRow,
  PeerSecrets,
  PeersRepository,
  TrafficSample,
} from '../../core/peers/peers-repository.ts';
import { type Db, stmt } from '../db.ts';
import { PeerRowsCache, toRow } from './peer-rows-cache.ts';

type Raw = Record<string, unknown>;
const COLUMNS = PeerRowsCache.COLUMNS;

const bit = (b: boolean) => (b ? 1 : 0);

export class PeersStore implements PeersRepository {
  readonly #db: Db;
  readonly #cache: PeerRowsCache;
  constructor(db: Db) {
    this.#db = db;
    this.#cache = PeerRowsCache.of(db);
  }

  /** Every peer by name, from the snapshot (see PeerRowsCache): at 1000 peers an add reads one row. */
  list(): PeerRow[] {
    return [...this.#cache.rows()];
  }

  byName(name: string): PeerRow | undefined {
    const r = stmt(this.#db, `SELECT ${COLUMNS} FROM peers WHERE name = ?`).get(name) as Raw | undefined;
    return r ? toRow(r) : undefined;
  }

  byPublicKey(key: string): PeerRow | undefined {
    const r = stmt(this.#db, `SELECT ${COLUMNS} FROM peers WHERE public_key = ?`).get(key) as Raw | undefined;
    return r ? toRow(r) : undefined;
  }

  secretsOf(id: number): PeerSecrets {
    return {
      ...(stmt(this.#db, 'SELECT private_key, preshared_key FROM peers WHERE id = ?').get(
        id,
      ) as unknown as PeerSecrets),
    };
  }

  /** Secrets of every peer (rendering the server config at 1000 peers), from the same snapshot. */
  allSecrets(): Map<number, PeerSecrets> {
    return this.#cache.secrets();
  }

  insert(p: NewPeer): number {
    const now = new Date().toISOString();
    const r = this.#cache.write(() =>
      stmt(
        this.#db,
        `INSERT INTO peers (name, address, public_key, private_key, preshared_key, routing, services, internet,
        peer_to_peer, blocklists, enabled, expires_at, account, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        p.name,
        p.address,
        p.public_key,
        p.private_key,
        p.preshared_key,
        p.routing,
        JSON.stringify(p.services),
        bit(p.internet),
        bit(p.peer_to_peer),
        bit(p.blocklists),
        bit(p.enabled),
        p.expires_at,
        bit(p.account),
        now,
        now,
      ),
    );
    const id = Number(r.lastInsertRowid);
    this.#cache.changed(id);
    return id;
  }

  update(id: number, c: PeerChange): void {
    const sets: string[] = [];
    const values: Array<string | number | null> = [];
    const put = (col: string, v: string | number | null) => {
      sets.push(`${col} = ?`);
      values.push(v);
    };
    if (c.public_key !== undefined) put('public_key', c.public_key);
    if (c.private_key !== undefined) put('private_key', c.private_key);
    if (c.routing !== undefined) put('routing', c.routing);
    if (c.services !== undefined) put('services', JSON.stringify(c.services));
    if (c.internet !== undefined) put('internet', bit(c.internet));
    if (c.peer_to_peer !== undefined) put('peer_to_peer', bit(c.peer_to_peer));
    if (c.blocklists !== undefined) put('blocklists', bit(c.blocklists));
    if (c.enabled !== undefined) put('enabled', bit(c.enabled));
    if (c.expires_at !== undefined) put('expires_at', c.expires_at);
    put('updated_at', new Date().toISOString());
    this.#cache.write(() =>
      this.#db.prepare(`UPDATE peers SET ${sets.join(', ')} WHERE id = ?`).run(...values, id),
    );
    this.#cache.changed(id);
  }

  delete(id: number): void {
    this.#cache.write(() => stmt(this.#db, 'DELETE FROM peers WHERE id = ?').run(id));
    this.#cache.changed(id);
  }

  count(): number {
    return (stmt(this.#db, 'SELECT count(*) AS n FROM peers').get() as { n: number }).n;
  }

  /** Addresses of peers (from the snapshot) plus addresses held after a delete until the data plane has dropped them. */
  addressesInUse(): string[] {
    const held = stmt(this.#db, 'SELECT address FROM peer_address_holds').all() as Array<{ address: string }>;
    return [...this.#cache.rows().map((p) => p.address), ...held.map((r) => r.address)];
  }

  hold(address: string): void {
    stmt(this.#db, 'INSERT OR REPLACE INTO peer_address_holds (address, held_at) VALUES (?, ?)').run(
      address,
      new Date().toISOString(),
    );
  }

  /** Releases holds on addresses the data plane no longer routes (everything not in `live`). */
  releaseHolds(live: ReadonlySet<string>): void {
    const held = stmt(this.#db, 'SELECT address FROM peer_address_holds').all() as Array<{ address: string }>;
    for (const { address } of held)
      if (!live.has(address)) stmt(this.#db, 'DELETE FROM peer_address_holds WHERE address = ?').run(address);
  }

  addSamples(samples: Array<{ peerId: number } & TrafficSample>): void {
    const ins = stmt(
      this.#db,
      'INSERT OR REPLACE INTO peer_traffic (peer_id, ts, rx, tx, handshake) VALUES (?, ?, ?, ?, ?)',
    );
    for (const s of samples) ins.run(s.peerId, s.ts, s.rx, s.tx, s.handshake);
  }

  traffic(peerId: number, sinceTs: number, limit = 5000): TrafficSample[] {
    return (
      stmt(
        this.#db,
        'SELECT ts, rx, tx, handshake FROM peer_traffic WHERE peer_id = ? AND ts >= ? ORDER BY ts LIMIT ?',
      ).all(peerId, sinceTs, limit) as unknown as TrafficSample[]
    ).map((r) => ({ ...r }));
  }

  pruneTraffic(beforeTs: number): void {
    stmt(this.#db, 'DELETE FROM peer_traffic WHERE ts < ?').run(beforeTs);
  }

  addLink(tokenHash: string, peerId: number, expiresAt: number): void {
    stmt(
      this.#db,
      'INSERT INTO peer_config_links (token_hash, peer_id, created_at, expires_at) VALUES (?, ?, ?, ?)',
    ).run(tokenHash, peerId, Date.now(), expiresAt);
  }

  /** Marks a link used and returns its peer id, once: a second call, or an expired link, gets undefined. */
  linkPeer(tokenHash: string, now: number): number | undefined {
    const r = stmt(
      this.#db,
      'SELECT peer_id FROM peer_config_links WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?',
    ).get(tokenHash, now) as { peer_id: number } | undefined;
    return r?.peer_id;
  }

  takeLink(tokenHash: string, now: number): number | undefined {
    const r = stmt(
      this.#db,
      'UPDATE peer_config_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING peer_id',
    ).get(now, tokenHash, now) as { peer_id: number } | undefined;
    stmt(this.#db, 'DELETE FROM peer_config_links WHERE expires_at < ?').run(now - 24 * 3600_000);
    return r?.peer_id;
  }
}
