// Which host peers dial, from the most to the least deliberate source: the owner's
// network.endpoint_host, then the address of the host's default route that `pic up` handed over (where
// a device on the host's LAN reaches it), then the host's name, and only then a guess from the
// interfaces this process sees (inside the cell that is the container's own bridge address, which no
// device can reach: the last resort, and the endpoint warnings say so).
import type { HostFacts } from '../../schema/host-facts.ts';

export type EndpointSource = 'config' | 'host_route' | 'host_name' | 'guess';

export interface EndpointChoice {
  host: string;
  source: EndpointSource;
}

export function chooseEndpointHost(
  configured: string | undefined,
  host: HostFacts | undefined,
  guess: () => string,
): EndpointChoice {
  if (configured) return { host: configured, source: 'config' };
  if (host?.address) return { host: host.address, source: 'host_route' };
  if (host?.name) return { host: host.name, source: 'host_name' };
  return { host: guess(), source: 'guess' };
}
