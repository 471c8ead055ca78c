// A peer's wg-quick config (what the WireGuard apps import) and one-time links that serve it. The QR
// code of a config is not made here: the API route or the CLI makes it from the text, only when asked.
import { createHash, randomBytes } from 'node:crypto';
import { renderPeerConf } from '../../render/wireguard/peer-conf.ts';
import { vpnNetwork } from '../../schema/config.ts';
import { RateLimiter } from '../auth/rate-limiter.ts';
import { AppError } from '../errors.ts';
import { inactiveReason, isActive, peerRow } from './peer-lookup.ts';
import { endpointOf, hostOf, type PeersContext } from './peers-context.ts';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export class PeerConfigs {
  readonly #c: PeersContext;
  /** Config-link fetches per source address: the token is long, but guessing must stay slow anyway. */
  readonly linkFetches = new RateLimiter({ max: 20, windowMs: 15 * 60_000 });

  constructor(ctx: PeersContext) {
    this.#c = ctx;
  }

  exportConfig(name: string): { config: string; has_private_key: boolean } {
    const row = peerRow(this.#c.repo, name);
    const cfg = this.#c.config.get();
    const secrets = this.#c.repo.secretsOf(row.id);
    const endpoint = endpointOf(this.#c, cfg);
    const config = renderPeerConf({
      cellName: cfg.identity.cell_name,
      domain: cfg.identity.domain,
      peerName: row.name,
      privateKey: secrets.private_key ?? undefined,
      address: row.address,
      dns: cfg.identity.vpn_address.split('/')[0]!,
      routing: row.routing,
      vpnNetwork: vpnNetwork(cfg.identity.vpn_address),
      cellNetwork: hostOf(this.#c, cfg).cellNetwork,
      serverPublicKey: this.#c.serverKey().publicKey,
      presharedKey: secrets.preshared_key,
      endpointHost: endpoint.host,
      endpointPort: endpoint.port,
    }).output;
    return { config, has_private_key: secrets.private_key !== null };
  }

  /**
   * A one-time link: the token is returned once and stored only as its SHA-256. A disabled (or
   * expired) peer gets none: 409, so the owner sees why rather than a link that would not work.
   */
  createLink(name: string, minutes = 60): { token: string; expires_at: string } {
    const row = peerRow(this.#c.repo, name);
    if (!isActive(row, this.#c.now())) throw new AppError('conflict', `${inactiveReason(row)} first`);
    const token = randomBytes(24).toString('base64url');
    const expires = this.#c.now() + minutes * 60_000;
    this.#c.repo.addLink(sha256(token), row.id, expires);
    return { token, expires_at: new Date(expires).toISOString() };
  }

  /**
   * Serves the config once. A link of a disabled (or expired) peer answers 409 and is not spent: it
   * works again, until it expires, once the owner enables the peer. Saying so tells the holder of a
   * 24-byte secret nothing they could not guess, and tells the peer why its link does not work.
   */
  redeemLink(token: string, source: string): { name: string; config: string } {
    const wait = this.linkFetches.retryAfter(source);
    if (wait > 0)
      throw new AppError('rate_limited', 'Too many config link requests; try again later', {
        retryAfter: wait,
      });
    this.linkFetches.hit(source);
    const hash = sha256(token);
    const now = this.#c.now();
    const row = this.#peerOf(this.#c.repo.linkPeer(hash, now));
    if (row && !isActive(row, now))
      throw new AppError('conflict', `${inactiveReason(row)}; this link works again once it is`);
    // Nothing awaits between the look and the take: no other request can change the peer in between.
    const peerId = row ? this.#c.repo.takeLink(hash, now) : undefined;
    if (!row || peerId !== row.id)
      throw new AppError('not_found', 'This config link is unknown, used or expired');
    return { name: row.name, config: this.exportConfig(row.name).config };
  }

  #peerOf(id: number | undefined) {
    return id === undefined ? undefined : this.#c.repo.list().find((p) => p.id === id);
  }
}
