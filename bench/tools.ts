// The Debian tools a benchmark runs (load generators, reference daemons), checked before it starts:
// a missing one ends it with the command that installs it, instead of a spawn error midway.
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

/** Whether an executable of that name is on PATH (looked up here: no shell, no `command -v`). */
export function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => {
    try {
      accessSync(join(dir || '.', tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Exits with the install command when one of `tools` is missing (`packages`: their Debian names). */
export function requireTools(bench: string, tools: string[], packages: string): void {
  for (const tool of tools)
    if (!onPath(tool)) {
      console.error(
        `${bench} needs ${tool} (Debian packages ${packages}): run\n  sudo scripts/install-prereqs.sh --for bench`,
      );
      process.exit(1);
    }
}
