// The store's side of per-peer accounts (AccountTargets): which installed service has account hooks,
// and the engine's name of the container they run in (as the renderer names it).
import { storeContainerName } from '../../render/store/service-containers.ts';
import type { AccountTarget, AccountTargets } from '../ports/service-accounts.ts';
import type { InstalledService, InstalledServicesRepository } from '../ports/service-store.ts';
import type { StoreCell } from './store-service.ts';

export function storeAccountTargets(deps: {
  repo: InstalledServicesRepository;
  cell: () => StoreCell;
  /** Whether the catalog offers this id (an unknown one is a 404, not a 409). */
  known: (id: string) => boolean;
}): AccountTargets {
  const targetOf = (row: InstalledService): AccountTarget | 'no_hooks' => {
    const hooks = row.manifest.accounts;
    if (!hooks) return 'no_hooks';
    const cell = deps.cell();
    const sub = row.manifest.http_routes?.[0]?.subdomain;
    const name = row.manifest.dns_names?.[0];
    return {
      serviceId: row.id,
      name: row.manifest.name,
      hooks,
      container: storeContainerName(cell.prefix, row.id, hooks.container),
      url: sub ? `https://${sub}.${cell.domain}` : null,
      domain: cell.domain,
      dnsName: name ? `${name}.${cell.domain}` : null,
    };
  };
  return {
    target(id) {
      const row = deps.repo.get(id);
      if (row?.state === 'running') return targetOf(row);
      return row || deps.known(id) ? 'not_installed' : 'unknown';
    },
    all() {
      return deps.repo
        .list()
        .filter((r) => r.state === 'running')
        .map(targetOf)
        .filter((t): t is AccountTarget => t !== 'no_hooks');
    },
  };
}
