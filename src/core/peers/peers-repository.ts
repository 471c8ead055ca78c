// The port through which the peer use-cases keep their state (implemented over SQLite by
// drivers/store/peers-store.ts), and the rows it speaks in. Private and preshared keys come back only
// from secretsOf/allSecrets, which only the config renderers call.

export interface PeerRow {
  id: number;
  name: string;
  address: string;
  public_key: string;
  routing: 'full' | 'split';
  services: string[];
  internet: boolean;
  peer_to_peer: boolean;
  /** The DNS blocklists apply to its queries (ADR 0020). */
  blocklists: boolean;
  enabled: boolean;
  expires_at: string | null;
  account: boolean;
  has_private_key: boolean;
  created_at: string;
  updated_at: string;
}

export interface PeerSecrets {
  private_key: string | null;
  preshared_key: string;
}

/** What a new row needs: the stored fields (without what the store derives) and the secrets. */
export type NewPeer = Omit<PeerRow, 'id' | 'has_private_key' | 'created_at' | 'updated_at'> & PeerSecrets;

export type PeerChange = Partial<
  Pick<
    NewPeer,
    | 'public_key'
    | 'private_key'
    | 'routing'
    | 'services'
    | 'internet'
    | 'peer_to_peer'
    | 'blocklists'
    | 'enabled'
    | 'expires_at'
  >
>;

export interface TrafficSample {
  ts: number;
  rx: number;
  tx: number;
  handshake: number | null;
}

export interface PeersRepository {
  list(): PeerRow[];
  byName(name: string): PeerRow | undefined;
  byPublicKey(key: string): PeerRow | undefined;
  secretsOf(id: number): PeerSecrets;
  /** Secrets of every peer at once (rendering the server config at 1000 peers). */
  allSecrets(): Map<number, PeerSecrets>;
  insert(p: NewPeer): number;
  update(id: number, c: PeerChange): void;
  delete(id: number): void;
  /** Addresses of peers plus addresses held after a delete until the data plane has dropped them. */
  addressesInUse(): string[];
  hold(address: string): void;
  /** Releases holds on addresses the data plane no longer routes (everything not in `live`). */
  releaseHolds(live: ReadonlySet<string>): void;
  addSamples(samples: Array<{ peerId: number } & TrafficSample>): void;
  traffic(peerId: number, sinceTs: number, limit?: number): TrafficSample[];
  pruneTraffic(beforeTs: number): void;
  addLink(tokenHash: string, peerId: number, expiresAt: number): void;
  /** The peer id of a link that is still usable (unused, not expired), without spending it. */
  linkPeer(tokenHash: string, now: number): number | undefined;
  /** Marks a link used and returns its peer id, once: a second call, or an expired link, gets undefined. */
  takeLink(tokenHash: string, now: number): number | undefined;
}

/** The logins a peer may own (username = peer name, role peer): the part of the users store peers use. */
export interface PeerLogins {
  byUsername(username: string): { role: string } | undefined;
  insert(username: string, role: 'peer', passwordHash: string): unknown;
  delete(username: string): void;
}
