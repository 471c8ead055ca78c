// An InstalledServicesPort held in memory, for tests (beside the port, so drivers' tests may use it)
// as the store's own would behave. `set` replaces the routes (and the services' facts) and tells
// every listener, as an install or uninstall would.
import type {
  InstalledServiceFacts,
  InstalledServiceRoute,
  InstalledServicesPort,
} from './installed-services.ts';

export class SettableInstalledServices implements InstalledServicesPort {
  #routes: InstalledServiceRoute[];
  #services: InstalledServiceFacts[];
  readonly #listeners = new Set<() => void>();

  constructor(
    routes: readonly InstalledServiceRoute[] = [],
    services: readonly InstalledServiceFacts[] = [],
  ) {
    this.#routes = routes.map((r) => ({ ...r }));
    this.#services = services.map((s) => structuredClone(s));
  }

  routes(): InstalledServiceRoute[] {
    return this.#routes.map((r) => ({ ...r }));
  }

  services(): InstalledServiceFacts[] {
    return this.#services.map((s) => structuredClone(s));
  }

  onChange(listener: () => void): () => void {
    // A wrapper per subscription, so subscribing the same function twice unsubscribes each once.
    const l = () => listener();
    this.#listeners.add(l);
    return () => void this.#listeners.delete(l);
  }

  set(routes: readonly InstalledServiceRoute[], services: readonly InstalledServiceFacts[] = []): void {
    this.#routes = routes.map((r) => ({ ...r }));
    this.#services = services.map((s) => structuredClone(s));
    for (const l of [...this.#listeners]) l();
  }
}

/** Nothing installed, nothing ever changes. */
export const NO_INSTALLED_SERVICES: InstalledServicesPort = {
  routes: () => [],
  services: () => [],
  onChange: () => () => undefined,
};
