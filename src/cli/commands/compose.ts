import { parseArgs } from 'node:util';
import { renderCompose } from '../../render/compose.ts';
import { runtimeContext } from '../runtime-context.ts';

export const composeHelp = `pic compose [--dir DIR]
  Prints a docker-compose.yml equivalent to the cell PIC runs, for reading (PIC does not use it).`;

export async function compose(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { dir: { type: 'string' } }, strict: true });
  process.stdout.write(renderCompose(runtimeContext(values.dir).desired()));
  return 0;
}
