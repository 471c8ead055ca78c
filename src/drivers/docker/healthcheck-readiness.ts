// Readiness by each image's own HEALTHCHECK, run on demand with `docker exec`: the same check Docker
// runs every 15 s, so "ready" means exactly what "healthy" means, only known sooner. The command is
// read from the container's config (inherited from its image), never written twice here.

import type { ContainerEnginePort } from '../../core/ports/container-engine.ts';
import type { Readiness, ReadinessResult } from '../../core/ports/readiness.ts';

/** Docker's own HEALTHCHECK timeout in our images. */
const CHECK_TIMEOUT_MS = 5_000;

export class HealthcheckReadiness implements Readiness {
  readonly #engine: Pick<ContainerEnginePort, 'exec' | 'healthcheckTest'>;

  constructor(engine: Pick<ContainerEnginePort, 'exec' | 'healthcheckTest'>) {
    this.#engine = engine;
  }

  async check(container: string): Promise<ReadinessResult> {
    try {
      // Read at every check: a recreated container may come from an image with another check.
      const argv = healthcheckArgv(await this.#engine.healthcheckTest(container));
      // An image without a HEALTHCHECK is ready once it runs (what Docker reports for it too).
      if (!argv) return { ready: true, detail: 'no healthcheck' };
      const r = await withTimeout(this.#engine.exec(container, argv), CHECK_TIMEOUT_MS);
      const detail = (r.stdout.trim() || r.stderr.trim()).split('\n')[0] ?? '';
      return { ready: r.exitCode === 0, detail };
    } catch (err) {
      return { ready: false, detail: (err as Error).message };
    }
  }
}

/** Docker's Healthcheck.Test: ["CMD", argv...], ["CMD-SHELL", script] or ["NONE"]. */
export function healthcheckArgv(test: string[] | undefined): string[] | null {
  const [kind, ...rest] = test ?? [];
  if (kind === 'CMD' && rest.length > 0) return rest;
  // The image's own shell form (its author's text, no value of ours in it), as Docker runs it.
  if (kind === 'CMD-SHELL' && rest[0]) return ['/bin/sh', '-c', rest[0]];
  return null;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`check timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
