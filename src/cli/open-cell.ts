// The cell in a data directory, opened by a short-lived host command beside a possibly running
// `pic serve` / cell-api: temps are not swept (the server's write in progress is not stale) and no
// log files are written.
import { existsSync, statSync } from 'node:fs';
import { type CellOptions, createCell } from '../composition.ts';
import { chownTree } from '../drivers/docker/host-dirs.ts';
import { cellPaths } from '../drivers/paths.ts';

/** A missing database means a wrong --data-dir, not a new cell: said instead of creating an empty one. */
export function openCell(dataDir: string, extra: Partial<CellOptions> = {}) {
  if (!existsSync(cellPaths(dataDir).db)) {
    throw new Error(`no cell in ${dataDir} (cell.db not found); pass the --data-dir that \`pic serve\` uses`);
  }
  const cell = createCell({ dataDir, sweepTemps: false, writeLogs: false, ...extra });
  // In a running cell the data dir belongs to the API container's user; files this root command
  // created there (the WAL) must go back to that user or the API could no longer open them. (`pic
  // backup` / `pic restore` never get here as root on such a directory: they run as its owner.)
  const owner = statSync(dataDir).uid;
  return {
    ...cell,
    close() {
      cell.close();
      if (process.getuid?.() === 0 && owner !== 0) chownTree(dataDir, owner);
    },
  };
}
