// Docker's network connect/disconnect for a running container (ContainerNetworksPort): how cell-caddy
// joins the installed store services' networks without being recreated.
import type Docker from 'dockerode';
import type { ContainerNetworksPort } from '../../core/ports/container-networks.ts';

const notFound = (err: unknown) => (err as { statusCode?: number }).statusCode === 404;

export function dockerContainerNetworks(docker: Docker): ContainerNetworksPort {
  return {
    async networksOf(container) {
      try {
        const i = await docker.getContainer(container).inspect();
        return Object.keys(i.NetworkSettings.Networks ?? {});
      } catch (err) {
        if (notFound(err)) return undefined;
        throw err;
      }
    },
    async connect(network, container) {
      await docker.getNetwork(network).connect({ Container: container });
    },
    async disconnect(network, container) {
      try {
        await docker.getNetwork(network).disconnect({ Container: container, Force: true });
      } catch (err) {
        // Gone already (the store removed the network with the service): nothing to leave.
        if (!notFound(err)) throw err;
      }
    },
  };
}
