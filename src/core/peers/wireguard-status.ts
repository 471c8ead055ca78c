// The interface as the API shows it: stored peers joined with the live `wg show wg0 dump` (handshake
// age, endpoint, rx/tx), plus whether stored changes are still waiting for the data plane, and the
// endpoint devices dial with what may keep them from reaching it (endpoint-warnings.ts).

import { isIP } from 'node:net';
import type { WireguardStatus } from '../../schema/wireguard-status.ts';
import { endpointWarnings } from './endpoint-warnings.ts';
import type { PeersApply } from './peers-apply.ts';
import { endpointOf, type PeersContext } from './peers-context.ts';
import type { WireguardPort } from './wireguard-port.ts';

export class WireguardStatusReader {
  readonly #c: PeersContext;
  readonly #wg: WireguardPort;
  readonly #apply: PeersApply;

  constructor(ctx: PeersContext, wireguard: WireguardPort, apply: PeersApply) {
    this.#c = ctx;
    this.#wg = wireguard;
    this.#apply = apply;
  }

  async status(): Promise<WireguardStatus> {
    const cfg = this.#c.config.get();
    const running = await this.#wg.running();
    const dump = running ? await this.#wg.dump() : undefined;
    const live = new Map((dump?.peers ?? []).map((p) => [p.publicKey, p]));
    const now = this.#c.now();
    const endpoint = endpointOf(this.#c, cfg);
    const resolved = isIP(endpoint.host) ? undefined : await this.#c.endpoint.resolve(endpoint.host);
    const warnings = endpointWarnings({ ...endpoint, resolved, published: this.#c.endpoint.published() });
    return {
      interface: 'wg0',
      running,
      pending: this.#apply.pending,
      public_key: this.#c.serverKey().publicKey,
      address: cfg.identity.vpn_address,
      listen_port: dump?.listenPort ?? cfg.identity.wg_port,
      endpoint: `${endpoint.host}:${endpoint.port}`,
      endpoint_source: endpoint.source,
      endpoint_warnings: warnings,
      peers: this.#c.repo.list().map((p) => {
        const s = live.get(p.public_key);
        return {
          name: p.name,
          address: p.address,
          public_key: p.public_key,
          enabled: p.enabled,
          connected: s !== undefined,
          endpoint: s?.endpoint ?? null,
          latest_handshake: s?.latestHandshake ? new Date(s.latestHandshake * 1000).toISOString() : null,
          handshake_age_s: s?.latestHandshake
            ? Math.max(0, Math.round(now / 1000 - s.latestHandshake))
            : null,
          rx: s?.rx ?? 0,
          tx: s?.tx ?? 0,
        };
      }),
    };
  }
}
