// The reference for bench/api: a bare Fastify hello route in its own Node process, so it is measured
// like `pic serve` (same runtime, same framework, one process, loopback). Prints its address.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/hello', async () => ({ hello: 'world' }));
console.log(await app.listen({ host: '127.0.0.1', port: 0 }));
// Exit on SIGTERM through process.exit so that a --cpu-prof profile is written (BENCH_CPU_PROF).
process.on('SIGTERM', () => process.exit(0));
