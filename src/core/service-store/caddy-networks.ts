// cell-caddy on the installed store services' networks (`<prefix>cell-svc-<id>`): it proxies each
// service's routes to `<container>:<port>` there, so it joins every installed service's network and
// leaves the network of a service no longer installed. Joined live (no recreate, so the front door
// never drops a connection for an install); checked again on every tick, so a cell-caddy recreated by
// `pic up` or a configuration apply is back on its networks within seconds.
import { storeNetworkName } from '../../render/store/service-containers.ts';
import type { ContainerNetworksPort } from '../ports/container-networks.ts';

export interface CaddyNetworksPlan {
  connect: string[];
  disconnect: string[];
}

/** What to join and leave: only store networks of this cell's prefix are ever left. */
export function planCaddyNetworks(
  attached: readonly string[],
  serviceIds: readonly string[],
  prefix: string,
): CaddyNetworksPlan {
  const wanted = [...new Set(serviceIds.map((id) => storeNetworkName(prefix, id)))].sort();
  const storeNet = new RegExp(`^${prefix.replace(/[^a-z0-9]/g, '\\$&')}cell-svc-[a-z0-9-]+$`);
  return {
    connect: wanted.filter((n) => !attached.includes(n)),
    disconnect: attached.filter((n) => storeNet.test(n) && !wanted.includes(n)).sort(),
  };
}

export class CaddyNetworks {
  readonly #port: ContainerNetworksPort;
  readonly #caddy: string;
  readonly #prefix: string;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(port: ContainerNetworksPort, caddyContainer: string, prefix: string) {
    this.#port = port;
    this.#caddy = caddyContainer;
    this.#prefix = prefix;
  }

  /** Joins and leaves what differs, one sync at a time; the plan it carried out (none: no Caddy). */
  sync(serviceIds: readonly string[]): Promise<CaddyNetworksPlan | undefined> {
    const run = this.#chain.then(async () => {
      const attached = await this.#port.networksOf(this.#caddy);
      if (!attached) return undefined;
      const plan = planCaddyNetworks(attached, serviceIds, this.#prefix);
      for (const n of plan.connect) await this.#port.connect(n, this.#caddy);
      for (const n of plan.disconnect) await this.#port.disconnect(n, this.#caddy);
      return plan;
    });
    this.#chain = run.catch(() => undefined);
    return run;
  }
}
