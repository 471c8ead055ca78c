// An InstalledServicesPort held in memory: what `pic serve` and tests use until the store's own
// implementation (its SQLite state) is wired in composition.ts. `set` replaces the routes and tells
// every listener, as an install or uninstall would.
import type { InstalledServiceRoute, InstalledServicesPort } from '../ports/installed-services.ts';

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
