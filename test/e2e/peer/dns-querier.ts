// A device's resolver loop, run by the public-domain end-to-end test inside a device's network
// namespace (a node:24 container started with `--network container:<device>`): it asks the cell's DNS
// through the tunnel, from the device's VPN address (so the peer's view applies), for the job's names
// every `everyMs`, until its stdin closes; then prints the rounds as one JSON line
// (src/drivers/dns/zone-switch-check.ts checks them).
//   QUERY_JOB={"server": "10.0.0.1", "names": [...], "everyMs": 20, "timeoutMs": 1000}
import { queryLoop } from '../../../src/drivers/dns/zone-switch-check.ts';

const job = JSON.parse(process.env.QUERY_JOB ?? '{}') as {
  server: string;
  names: string[];
  everyMs: number;
  timeoutMs: number;
};
const loop = queryLoop(job);
process.stdin.resume();
process.stdin.on('end', () => loop.stop());
process.stdout.write('started\n');
const rounds = await loop.done;
// Exit once the whole line is written (a pipe takes 64 KiB at a time).
process.stdout.write(`${JSON.stringify(rounds)}\n`, () => process.exit(0));
