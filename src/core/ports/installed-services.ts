// What the store has installed, as the names, HTTPS and firewall sides need it: each HTTP route of
// each installed service with its virtual IP and upstream. The store implements it; Caddy, DNS and
// the peers' firewall read it and re-render when it changes.
export interface InstalledServiceRoute {
  serviceId: string;
  /** `<subdomain>.<domain>` */
  subdomain: string;
  /** The service's address on the cell network (allocateVirtualIps). */
  virtualIp: string;
  /** `<container name>:<port>`, reached by Caddy on the service's network. */
  upstream: string;
}

export interface InstalledServicesPort {
  routes(): InstalledServiceRoute[];
  /** Called after every install or uninstall; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}
