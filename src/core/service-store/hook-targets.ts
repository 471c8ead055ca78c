// Which installed service a manifest hook runs in (issue 13): the service's recorded manifest and the
// engine's names of its containers. Unknown to the catalog and not installed is a 404; known but not
// installed and running, a 409 that says so.
import { storeContainerName } from '../../render/store/service-containers.ts';
import type { ServiceManifest } from '../../schema/service-manifest.ts';
import { AppError, notFound } from '../errors.ts';
import type { InstalledServicesRepository } from '../ports/service-store.ts';

export interface HookTarget {
  manifest: ServiceManifest;
  /** The engine's name of one of the service's containers. */
  container(name: string): string;
  /** The service's own names relative to the zone: its `dns_names` and route subdomains. */
  names: string[];
}

export interface HookTargets {
  /** The running service `id`, or a 404 (unknown) / 409 (not installed and running). */
  running(id: string): Promise<HookTarget>;
  /** Every installed service that runs. */
  all(): HookTarget[];
  of(manifest: ServiceManifest): HookTarget;
}

export function ownNames(m: ServiceManifest): string[] {
  return [...new Set([...(m.dns_names ?? []), ...(m.http_routes ?? []).map((r) => r.subdomain)])];
}

export function hookTargets(deps: {
  repo: InstalledServicesRepository;
  prefix: () => string;
  /** Whether the catalog offers this id (an unknown one is a 404, not a 409). */
  known: (id: string) => boolean | Promise<boolean>;
}): HookTargets {
  const of = (manifest: ServiceManifest): HookTarget => ({
    manifest,
    container: (name) => storeContainerName(deps.prefix(), manifest.id, name),
    names: ownNames(manifest),
  });
  return {
    of,
    async running(id) {
      const row = deps.repo.get(id);
      if (!row && !(await deps.known(id))) throw notFound(`Service ${id}`);
      if (row?.state !== 'running')
        throw new AppError('conflict', `${id} is not installed: install it from the Service Store first`);
      return of(row.manifest);
    },
    all: () =>
      deps.repo
        .list()
        .filter((r) => r.state === 'running')
        .map((r) => of(r.manifest)),
  };
}

/** A hook's own words for a failure (the last line of its stderr), never what was sent to it. */
export function hookFailure(r: { exitCode: number; stderr: string }): string {
  return r.stderr.trim().split('\n').at(-1)?.slice(0, 300) || `exit code ${r.exitCode}`;
}
