import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { runtimeContext } from '../runtime-context.ts';
import { removeCell } from './down.ts';

export const uninstallHelp = `pic uninstall [--purge] [--yes] [--dir DIR]
  Removes the cell's containers and network. With --purge also deletes config/ and data/ (asks
  first unless --yes). The images stay; remove them with \`docker image rm pic/cell-...\`.`;

export async function uninstall(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { dir: { type: 'string' }, purge: { type: 'boolean' }, yes: { type: 'boolean' } },
    strict: true,
  });
  await removeCell(values.dir);
  if (!values.purge) {
    console.log('Containers removed; config/ and data/ kept (use --purge to delete them).');
    return 0;
  }
  const { cellDir } = runtimeContext(values.dir);
  // Only a cell's own folders: --dir pointing at the wrong directory (a home, a typo) must never lose
  // its config/ and data/. A cell has its database; without one, the owner deletes by hand.
  if (!existsSync(join(cellDir, 'data', 'api', 'cell.db'))) {
    console.error(
      `Refusing to delete ${join(cellDir, 'config')} and ${join(cellDir, 'data')}: ${cellDir} holds no cell (data/api/cell.db not found). Delete them by hand if they are a cell's.`,
    );
    return 1;
  }
  const targets = [join(cellDir, 'config'), join(cellDir, 'data')];
  if (!values.yes) {
    if (!process.stdin.isTTY) {
      console.error('Refusing to delete config/ and data/ without a terminal to ask: add --yes.');
      return 1;
    }
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question(`Delete ${targets.join(' and ')} with all keys and data? [y/N] `);
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      console.log('Kept config/ and data/.');
      return 0;
    }
  }
  for (const t of targets) rmSync(t, { recursive: true, force: true });
  console.log('Deleted config/ and data/.');
  return 0;
}
