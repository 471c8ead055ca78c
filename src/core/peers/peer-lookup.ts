// What the peer use-cases share: finding a row by name (404 otherwise), the API's view of a row, and
// the conflict error that names its field.
import type { PeerView } from '../../schema/peers.ts';
import { AppError, notFound } from '../errors.ts';
import type { PeerRow, PeersRepository } from './peers-repository.ts';

export function peerRow(repo: PeersRepository, name: string): PeerRow {
  const row = repo.byName(name);
  if (!row) throw notFound(`Peer ${name}`);
  return row;
}

/**
 * Whether a peer is in use now: enabled and not past its expiry. The one rule behind the tunnel
 * (peers-apply.ts), its config links and its login (a peer that is not active is disabled everywhere).
 */
export function isActive(p: Pick<PeerRow, 'enabled' | 'expires_at'>, now: number): boolean {
  return p.enabled && (p.expires_at === null || Date.parse(p.expires_at) > now);
}

/** Why a peer is not active, in words an owner or the peer understands. */
export function inactiveReason(p: Pick<PeerRow, 'name' | 'enabled'>): string {
  return p.enabled
    ? `Peer ${p.name} has expired; the cell's owner can extend it`
    : `Peer ${p.name} is disabled; the cell's owner can enable it again`;
}

export function fieldConflict(field: string, message: string): AppError {
  return new AppError('conflict', message, { fields: [{ field, message }] });
}

export function peerView(p: PeerRow): PeerView {
  return {
    name: p.name,
    address: p.address,
    public_key: p.public_key,
    has_private_key: p.has_private_key,
    routing: p.routing,
    services: p.services,
    internet: p.internet,
    peer_to_peer: p.peer_to_peer,
    blocklists: p.blocklists,
    enabled: p.enabled,
    expires_at: p.expires_at,
    account: p.account,
    created_at: p.created_at,
    updated_at: p.updated_at,
  };
}
