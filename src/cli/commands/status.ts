import { parseArgs } from 'node:util';
import { createCell } from '../../composition.ts';
import { defaultDataDir } from '../usage.ts';

export const statusHelp = `pic status [--data-dir DIR] [--json]
  Shows the cell's identity, whether setup is complete, and the state of each core service.`;

export async function status(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { 'data-dir': { type: 'string' }, json: { type: 'boolean' } },
    strict: true,
  });
  const cell = createCell({
    dataDir: values['data-dir'] ?? defaultDataDir(),
    sweepTemps: false,
    writeLogs: false,
  });
  try {
    const { identity } = cell.deps.config.get();
    const services = await cell.deps.health.services();
    const setupDone = cell.deps.setup.isCompleted();
    if (values.json) {
      console.log(JSON.stringify({ setup_completed: setupDone, identity, services }, null, 2));
      return 0;
    }
    console.log(`cell      ${identity.cell_name} (${identity.domain}, ${identity.domain_mode})`);
    console.log(
      `setup     ${setupDone ? 'complete' : 'not complete: run `pic setup-token` and open /setup'}`,
    );
    console.log('');
    console.log('SERVICE          STATE         SINCE');
    for (const s of services) console.log(`${s.name.padEnd(16)} ${s.state.padEnd(13)} ${s.since ?? '-'}`);
    return 0;
  } finally {
    cell.close();
  }
}
