// What every peer use-case reads besides its own ports: the stored peers, the configuration, the
// cell's key, and where peers dial. Built once by PeersService from its dependencies.
import type { CellConfig } from '../../schema/config.ts';
import type { StoreRouteFact, StoreServiceFact } from '../../schema/store-sites.ts';
import { chooseEndpointHost, type EndpointSource } from './endpoint-choice.ts';
import type { EndpointPort } from './endpoint-port.ts';
import type { KeyPair } from './keys.ts';
import type { PeersRepository } from './peers-repository.ts';

export interface PeersContext {
  repo: PeersRepository;
  config: { get(): CellConfig };
  /** The cell's own WireGuard key pair (kept 0600 under data/secrets by a driver). */
  serverKey: () => KeyPair;
  /** Where devices dial when the config names no endpoint: the host's facts, else a local guess. */
  endpoint: EndpointPort;
  /**
   * The cell network the containers really sit on and the port peers must dial, with the host's .env
   * overrides (CELL_NETWORK, the published WG_PORT) applied. Default: the configuration's values.
   */
  hostFacts?: ((config: CellConfig) => { cellNetwork: string; wgPort: number }) | undefined;
  now: () => number;
  /** The installed store services' routes (InstalledServicesPort.routes): grantable by service id. */
  installed?: (() => readonly StoreRouteFact[]) | undefined;
  /** The installed store services' names and host ports (InstalledServicesPort.services). */
  installedServices?: (() => readonly StoreServiceFact[]) | undefined;
}

/** Store service ids a peer may be granted now: those installed with a route, a name or host ports. */
export function installedServiceIds(ctx: PeersContext): string[] {
  return [
    ...new Set([
      ...(ctx.installed?.() ?? []).map((r) => r.serviceId),
      ...(ctx.installedServices?.() ?? []).map((s) => s.serviceId),
    ]),
  ].sort();
}

export function hostOf(ctx: PeersContext, cfg: CellConfig): { cellNetwork: string; wgPort: number } {
  return ctx.hostFacts?.(cfg) ?? { cellNetwork: cfg.identity.ip_range, wgPort: cfg.identity.wg_port };
}

/** host:port peers dial, and where the host came from. */
export function endpointOf(
  ctx: PeersContext,
  cfg: CellConfig,
): { host: string; port: number; source: EndpointSource } {
  const { host, source } = chooseEndpointHost(cfg.network.endpoint_host, ctx.endpoint.host(), () =>
    ctx.endpoint.guess(),
  );
  return { host, port: hostOf(ctx, cfg).wgPort, source };
}
