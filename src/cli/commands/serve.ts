import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp } from '../../api/app.ts';
import { createCell } from '../../composition.ts';
import { defaultDataDir, parseListen, UsageError } from '../usage.ts';

export const serveHelp = `pic serve [--data-dir DIR] [--listen HOST:PORT] [--web-root DIR] [--trusted-proxy IP]...
  Runs the API and the built web UI on one origin. Without Docker the data plane is reported as not running.
  --data-dir       state and secrets (default $PIC_DATA_DIR or ./data)
  --listen         address to listen on (default 127.0.0.1:3000)
  --web-root       built UI to serve (default web/dist of this checkout)
  --trusted-proxy  socket address whose X-Forwarded-* headers are believed (the cell's Caddy); repeatable`;

export async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string' },
      listen: { type: 'string' },
      'web-root': { type: 'string' },
      'trusted-proxy': { type: 'string', multiple: true },
      'allowed-host': { type: 'string', multiple: true },
    },
    strict: true,
  });
  const { host, port } = parseListen(values.listen ?? process.env.PIC_LISTEN ?? '127.0.0.1:3000');
  const webRoot = resolve(values['web-root'] ?? join(import.meta.dirname, '..', '..', '..', 'web', 'dist'));
  if (values['web-root'] && !existsSync(webRoot))
    throw new UsageError(`--web-root ${webRoot} does not exist`);

  const cell = createCell({
    dataDir: values['data-dir'] ?? defaultDataDir(),
    echoLogs: false,
    docker: process.env.PIC_DATA_PLANE === 'docker',
  });
  const log = cell.deps.logs.get('api');
  const app = await buildApp(cell.deps, {
    webRoot: existsSync(webRoot) ? webRoot : undefined,
    trustedProxies: values['trusted-proxy'] ?? [],
    allowedHosts: values['allowed-host'] ?? [],
  });
  const sweeper = setInterval(() => cell.deps.sessions.sweep(), 10 * 60_000);
  sweeper.unref();

  const address = await app.listen({ host, port });
  cell.monitor?.start();
  cell.frontDoor?.start();
  log.info({ address, data_dir: cell.paths.data, swept_temps: cell.sweptTemps.length }, 'pic api listening');
  console.log(`PIC ${cell.deps.version} listening on ${address}`);
  if (!existsSync(webRoot))
    console.log('The web UI is not built (run `npm run build:web`); serving the API only.');
  const token = cell.deps.setup.issueToken();
  if (token) {
    console.log(`Open ${address}/setup to set up this cell. Setup token (valid until used or re-issued):`);
    console.log(token);
  }

  await new Promise<void>((done) => {
    const stop = async (signal: string) => {
      log.info({ signal }, 'shutting down');
      cell.monitor?.stop();
      cell.frontDoor?.stop();
      await app.close();
      cell.close();
      done();
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
  return 0;
}
