// The one-off helper containers of the base image that cell-api runs to touch a service's volume
// (service-engine.ts: preparing a bind; service-files.ts: writing files into it) remove themselves
// once they exit. If cell-api stops between the helper's exit and that removal (`pic down`,
// `pic update` recreating cell-api), the exited helper would stay in `docker ps -a` for good. Each
// new helper first removes the ones that ended and were made over five minutes ago, whichever cell on
// this host ran them: a helper lives a few seconds, so one that old was abandoned. `pic down`, once
// cell-api is gone, removes its own cell's ended helpers whatever their age.
// A younger one may still be read by the writer that made it (its exit code, its log), and one being
// made or running is never touched (the engine lists only exited and dead ones).
import { LABELS } from '../../schema/runtime.ts';
import type { DockerEngine } from './engine.ts';

/** The `org.pic.store.id` label values of the helpers, one per kind of work. */
export const HELPER_KINDS = { files: 'volume-files', preparation: 'volume-preparation' } as const;
const KINDS: ReadonlySet<string> = new Set(Object.values(HELPER_KINDS));

/** How old an ended helper must be to be removed by someone else than its writer. */
export const ABANDONED_AFTER_MS = 5 * 60_000;

export interface SweepOptions {
  /** How long ago a helper must have been made (default ABANDONED_AFTER_MS). */
  olderThanMs?: number;
  /**
   * A cell's directory whose cell-api is gone (`pic down`): its helpers (every mount under it) are
   * removed whatever their age, as nobody is left to read them.
   */
  cellDir?: string;
  /** `key=value`: only the helpers that carry this label (a test's own). */
  label?: string;
}

/** Removes the ended helpers `o` selects; returns how many. Never throws (a sweep is best effort). */
export async function removeEndedHelpers(
  engine: Pick<DockerEngine, 'docker'>,
  o: SweepOptions = {},
): Promise<number> {
  // The engine's `Created`: seconds since the epoch.
  const before = (Date.now() - (o.olderThanMs ?? ABANDONED_AFTER_MS)) / 1000;
  const ofCell = (c: { Mounts?: Array<{ Source?: string }> }) =>
    o.cellDir !== undefined &&
    (c.Mounts ?? []).length > 0 &&
    (c.Mounts ?? []).every((m) => (m.Source ?? '').startsWith(`${o.cellDir}/`));
  const ended = await engine.docker
    .listContainers({
      all: true,
      filters: {
        label: [`${LABELS.managed}=true`, ...(o.label ? [o.label] : [])],
        status: ['exited', 'dead'],
      },
    })
    .catch(() => []);
  let removed = 0;
  for (const c of ended) {
    // A helper has no cell label; a store service's container has one (whatever its id is called).
    if (!KINDS.has(c.Labels[LABELS.storeId] ?? '') || c.Labels[LABELS.cell] !== undefined) continue;
    if (c.Created > before && !ofCell(c)) continue;
    await engine.docker
      .getContainer(c.Id)
      .remove({ force: true })
      .then(() => removed++)
      .catch(() => undefined);
  }
  return removed;
}
