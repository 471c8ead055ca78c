// One step of the bisection by construction as a server: `node bench/api/bisect-server.ts STEP
// DATA_DIR` builds the step's app (bisect-app.ts) and prints its address. DATA_DIR is a cell after
// setup, opened like `pic serve` opens it from step `cell` on.
import { createCell } from '../../src/composition.ts';
import { buildStep } from './bisect-app.ts';
import { EXTRA_STEPS, STEPS, type Step } from './bisect-steps.ts';

const [stepName, dataDir] = process.argv.slice(2);
const step = STEPS.indexOf(stepName as (typeof STEPS)[number]);
if ((step < 0 && !(EXTRA_STEPS as readonly string[]).includes(stepName ?? '')) || !dataDir)
  throw new Error(`usage: bisect-server.ts STEP DATA_DIR (STEP: ${[...STEPS, ...EXTRA_STEPS].join(', ')})`);
const cell =
  step >= STEPS.indexOf('cell') ? createCell({ dataDir, echoLogs: false, docker: false }) : undefined;
const app = await buildStep(stepName as Step, cell);
console.log(await app.listen({ host: '127.0.0.1', port: 0 }));
process.on('SIGTERM', () => process.exit(0));
