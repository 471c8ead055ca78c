// A running container's networks, joined and left without recreating it (Docker's network connect and
// disconnect): cell-caddy joins each installed store service's network to reach its upstreams.
export interface ContainerNetworksPort {
  /** The names of the networks the container is attached to; undefined when it does not exist. */
  networksOf(container: string): Promise<string[] | undefined>;
  connect(network: string, container: string): Promise<void>;
  disconnect(network: string, container: string): Promise<void>;
}
