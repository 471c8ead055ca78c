// What the store has installed, as the names, HTTPS and firewall sides need it: each HTTP route of
// each installed service with its virtual IP and upstream, and each service's own names and host
// ports at its virtual IP. The store implements it; Caddy, DNS and the peers' firewall read it and
// re-render when it changes.
export interface InstalledServiceRoute {
  serviceId: string;
  /**
   * The route's name relative to the zone (`calendar`): the Caddy, zone and firewall renderers put it
   * under the domain they render for, which during a domain change is the target config's.
   */
  subdomain: string;
  /** The service's address on the cell network (allocateVirtualIps). */
  virtualIp: string;
  /**
   * Where the name resolves and 80/443 are answered, when not at `virtualIp`: the virtual IP of a
   * required service whose `dns_names` hold the route's name (webmail's `mail` on email's address).
   */
  address?: string | undefined;
  /** `<container name>:<port>`, reached by Caddy on the service's network. */
  upstream: string;
}

/** An installed service with a virtual IP (names, routes or host ports): its names and host ports. */
export interface InstalledServiceFacts {
  serviceId: string;
  virtualIp: string;
  /** Its `dns_names`: labels in the cell's zone, A records at `virtualIp`. */
  names: string[];
  /** Its `host_ports` (published on the host), answered at `virtualIp` for the peers granted it. */
  hostPorts: Array<{ proto: 'tcp' | 'udp'; port: number }>;
  /** Where cell-wireguard reaches the published ports: BIND_ADDRESS, or the cell network's gateway. */
  hostAddress: string;
}

export interface InstalledServicesPort {
  routes(): InstalledServiceRoute[];
  /** Every installed, running service with a virtual IP, with or without routes (sorted by id). */
  services(): InstalledServiceFacts[];
  /** Called after every install or uninstall; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}
