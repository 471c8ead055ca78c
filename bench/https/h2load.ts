// h2load (Debian's nghttp2-client) as the HTTPS benchmark's load generator: a C client on one thread,
// so the share of the two cores it takes from the servers is small and does not grow with the size of
// the answers' headers (autocannon, in Node, parsed the cell's 8 extra header lines on the same cores,
// which counted against the cell's req/s). It speaks HTTP/1.1 (`--h1`) and HTTP/2 (what every browser
// negotiates with Caddy through ALPN). Like autocannon it does not verify the server's certificate:
// run.ts verifies each chain against the cell root once, before the load.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface H2loadResult {
  /** Requests per second over the measured duration. */
  rps: number;
  total: number;
  /** Latency percentiles in ms, from h2load's per-request log. */
  p50: number;
  p99: number;
  failed: number;
}

export interface H2loadOptions {
  /** The address to connect to (loopback), while SNI and :authority stay the cell's domain. */
  port: number;
  domain: string;
  path: string;
  connections: number;
  seconds: number;
  protocol: 'h1' | 'h2';
  headers?: Record<string, string>;
  /** A scratch directory for the per-request log. */
  dir: string;
}

let runs = 0;

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** Runs h2load once (argv, no shell) and reads its summary and per-request log. */
export function h2load(o: H2loadOptions): Promise<H2loadResult> {
  const log = join(o.dir, `h2load-${process.pid}-${runs++}.log`);
  const args = [
    `https://${o.domain}:${o.port}${o.path}`,
    `--connect-to=127.0.0.1:${o.port}`,
    `--clients=${o.connections}`,
    '--threads=1',
    // One request at a time per connection, as a browser's HTTP/1.1 connection and as autocannon did;
    // over HTTP/2 the same, so the two protocols compare on equal concurrency.
    '--max-concurrent-streams=1',
    `--duration=${o.seconds}`,
    `--log-file=${log}`,
    ...(o.protocol === 'h1' ? ['--h1'] : []),
    ...Object.entries(o.headers ?? {}).map(([k, v]) => `--header=${k}: ${v}`),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('h2load', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        const finished = /finished in ([\d.]+)s, ([\d.]+) req\/s/.exec(out);
        const counts =
          /requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(
            out,
          );
        const status = /status codes: (\d+) 2xx/.exec(out);
        if (code !== 0 || !finished || !counts || !status)
          throw new Error(`h2load exited ${code}:\n${out.slice(-2000)}`);
        // Each line: start time (µs since the epoch), status code, duration (µs).
        const durations = readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => Number(l.split('\t')[2]) / 1000)
          .sort((a, b) => a - b);
        // Requests counted from the per-request log (each one answered); failures are h2load's failed
        // and errored ones, and the succeeded ones that did not answer 2xx (from its status line).
        const done = durations.length;
        resolve({
          rps: Number(finished[2]),
          total: done,
          p50: Math.round(percentile(durations, 50) * 100) / 100,
          p99: Math.round(percentile(durations, 99) * 100) / 100,
          failed: Number(counts[3]) + Number(counts[4]) + (Number(counts[2]) - Number(status[1])),
        });
      } catch (e) {
        reject(e);
      } finally {
        rmSync(log, { force: true });
      }
    });
  });
}
