import { up } from './up.ts';

export const updateHelp = `pic update [--dir DIR]
  Rebuilds the images whose inputs changed and recreates only the containers that changed.
  (Getting new code is yours to do first, e.g. \`git pull\`.)`;

export async function update(argv: string[]): Promise<number> {
  return up(argv.filter((a) => a !== '--no-build'));
}
