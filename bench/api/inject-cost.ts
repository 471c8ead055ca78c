// The API's own cost per request without sockets or a load generator: `node bench/api/inject-cost.ts
// DATA_DIR COOKIE [N]` (a data dir after setup, and a session cookie of it) runs N `inject()` calls
// of GET /api/auth/me through the whole hook chain and of a bare Fastify hello route, interleaved in
// five rounds, and prints the median CPU µs per request of each. On a shared machine this moves far less
// than the socket benchmark (bench/api/run.ts), so it shows what a change to the hooks is worth.
import Fastify, { type FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.ts';
import { createCell } from '../../src/composition.ts';

const [dataDir, cookie, nArg] = process.argv.slice(2);
if (!dataDir || !cookie) throw new Error('usage: inject-cost.ts DATA_DIR COOKIE [N]');
const N = Number(nArg ?? 20000);
const cell = createCell({ dataDir, echoLogs: false, docker: false });
const pic = await buildApp(cell.deps, {});
const hello = Fastify({ logger: false });
hello.get('/hello', async () => ({ hello: 'world' }));
await pic.ready();
await hello.ready();

async function run(app: FastifyInstance, url: string, headers: Record<string, string>): Promise<number> {
  // CPU time, not wall time: on a shared machine the wait for a CPU is not the API's cost.
  const t = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const r = await app.inject({ method: 'GET', url, headers: { host: '127.0.0.1', ...headers } });
    if (r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode} ${r.body}`);
  }
  const d = process.cpuUsage(t);
  return (d.user + d.system) / N;
}
const me: number[] = [];
const ref: number[] = [];
await run(pic, '/api/auth/me', { cookie });
await run(hello, '/hello', {});
for (let i = 0; i < 5; i++) {
  ref.push(await run(hello, '/hello', {}));
  me.push(await run(pic, '/api/auth/me', { cookie }));
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[2]!;
console.log(
  `inject, ${N} requests × 5 rounds: hello ${med(ref).toFixed(1)} µs, /api/auth/me ${med(me).toFixed(1)} µs, difference ${(med(me) - med(ref)).toFixed(1)} µs`,
);
await pic.close();
