// chronyc, wherever chronyd runs: inside cell-ntp through the container engine (docker exec of an
// argv, no shell), or a local chronyc against a given command socket (tests). The arguments are
// fixed by core, never a user value.
import type { ExecResult } from './container-engine.ts';

export interface ChronycPort {
  /** Runs `chronyc ...args`; rejects when chronyc cannot be run at all (no container, no binary). */
  run(args: readonly string[]): Promise<ExecResult>;
}

/** `pic serve` without Docker: there is no chronyd to ask. */
export const NO_CHRONYC: ChronycPort = {
  run: () => Promise.reject(new Error('no NTP service in this mode')),
};
