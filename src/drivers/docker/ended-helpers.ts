// The one-off helper containers of the base image that cell-api runs to touch a service's volume
// (service-engine.ts: preparing a bind; service-files.ts: writing files into it) remove themselves
// once they exit. If cell-api stops between the helper's exit and that removal (`pic down`,
// `pic update` recreating cell-api), the exited helper would stay in `docker ps -a` for good. Each
// new helper, and `pic down`, first removes the ones that ended and were made over five minutes ago,
// whichever cell on this host ran them: a helper lives a few seconds, so one that old was abandoned.
// A younger one may still be read by the writer that made it (its exit code, its log), and one being
// made or running is never touched (the engine lists only exited and dead ones).
import { LABELS } from '../../schema/runtime.ts';
import type { DockerEngine } from './engine.ts';

/** The `org.pic.store.id` label values of the helpers, one per kind of work. */
export const HELPER_KINDS = { files: 'volume-files', preparation: 'volume-preparation' } as const;
const KINDS: ReadonlySet<string> = new Set(Object.values(HELPER_KINDS));

/** How old an ended helper must be to be removed by someone else than its writer. */
export const ABANDONED_AFTER_MS = 5 * 60_000;

/**
 * Removes every exited or dead helper made `olderThanMs` ago or earlier; returns how many. Never
 * throws. `label` (`key=value`) narrows the sweep to the helpers that carry it (a test's own).
 */
export async function removeEndedHelpers(
  engine: Pick<DockerEngine, 'docker'>,
  olderThanMs = ABANDONED_AFTER_MS,
  label?: string,
): Promise<number> {
  const before = (Date.now() - olderThanMs) / 1000; // the engine's `Created`: seconds since the epoch
  const ended = await engine.docker
    .listContainers({
      all: true,
      filters: { label: [`${LABELS.managed}=true`, ...(label ? [label] : [])], status: ['exited', 'dead'] },
    })
    .catch(() => []);
  let removed = 0;
  for (const c of ended) {
    if (!KINDS.has(c.Labels[LABELS.storeId] ?? '') || c.Created > before) continue;
    await engine.docker
      .getContainer(c.Id)
      .remove({ force: true })
      .then(() => removed++)
      .catch(() => undefined);
  }
  return removed;
}
