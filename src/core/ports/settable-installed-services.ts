// An InstalledServicesPort held in memory, for tests (beside the port, so drivers' tests may use it)
// as the store's own would behave. `set` replaces the routes and tells
// every listener, as an install or uninstall would.
import type { InstalledServiceRoute, InstalledServicesPort } from './installed-services.ts';

export class SettableInstalledServices implements InstalledServicesPort {
  #routes: InstalledServiceRoute[];
  readonly #listeners = new Set<() => void>();

  constructor(routes: readonly InstalledServiceRoute[] = []) {
    this.#routes = routes.map((r) => ({ ...r }));
  }

  routes(): InstalledServiceRoute[] {
    return this.#routes.map((r) => ({ ...r }));
  }

  onChange(listener: () => void): () => void {
    // A wrapper per subscription, so subscribing the same function twice unsubscribes each once.
    const l = () => listener();
    this.#listeners.add(l);
    return () => void this.#listeners.delete(l);
  }

  set(routes: readonly InstalledServiceRoute[]): void {
    this.#routes = routes.map((r) => ({ ...r }));
    for (const l of [...this.#listeners]) l();
  }
}

/** Nothing installed, nothing ever changes. */
export const NO_INSTALLED_SERVICES: InstalledServicesPort = {
  routes: () => [],
  onChange: () => () => undefined,
};
