import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCell } from '../../composition.ts';
import { FrontDoorTls } from '../../core/front-door/front-door-tls.ts';
import { chooseEndpointHost } from '../../core/peers/endpoint-choice.ts';
import { applyDesired, waitHealthy } from '../../core/runtime/apply.ts';
import { CaddyAdmin } from '../../drivers/caddy/caddy-admin.ts';
import { caddyTlsFiles } from '../../drivers/caddy/caddy-tls-files.ts';
import { prepareBind, writeRenderedFile } from '../../drivers/docker/host-dirs.ts';
import { cellPaths } from '../../drivers/paths.ts';
import { guessEndpoint } from '../../drivers/wireguard/endpoint-guess.ts';
import { readHostFacts } from '../../drivers/wireguard/host-facts.ts';
import { prepareWireguardBoot } from '../../drivers/wireguard/server-key.ts';
import { caddyShared } from '../../schema/runtime.ts';
import { REPO_ROOT, type RuntimeContext, requireDocker, runtimeContext } from '../runtime-context.ts';

export const upHelp = `pic up [--yes] [--dir DIR] [--no-build]
  Builds what changed and starts the cell, waits until every service is healthy, then prints the
  web UI's address and a setup token. A second run with nothing changed does nothing.
  --yes       install what is missing first (Debian packages incl. docker.io, the Docker engine,
              the base images) — needs root
  --dir       the cell directory holding config/, data/ and .env (default: this checkout)
  --no-build  use the images as they are`;

function run(ctx: RuntimeContext, step: string, cmd: string, args: string[]): void {
  console.log(`\n→ ${step}`);
  const r = ctx.processes.run(cmd, args, { cwd: REPO_ROOT });
  if (r.status !== 0) throw new Error(`${step} failed (exit ${r.status ?? r.signal})`);
}

/** network.endpoint_host as stored (through a short-lived cell, as `desired()` reads the config). */
function configuredEndpoint(ctx: RuntimeContext): string | undefined {
  const cell = createCell({ dataDir: ctx.apiDataDir, sweepTemps: false, writeLogs: false });
  try {
    return cell.deps.config.get().network.endpoint_host;
  } finally {
    cell.close();
  }
}

/** The certificate for the cell's names (the cell CA's, or the ACME one), into data/caddy-tls. */
async function deliverCertificate(ctx: RuntimeContext, tlsDir: string) {
  const cell = createCell({ dataDir: ctx.apiDataDir, sweepTemps: false, writeLogs: false });
  try {
    return await new FrontDoorTls({
      certificateFor: (identity) => cell.deps.tls.certificateFor(identity),
      files: caddyTlsFiles(tlsDir),
    }).ensure(cell.deps.config.get(), { reload: false });
  } finally {
    cell.close();
  }
}

export async function up(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { yes: { type: 'boolean' }, dir: { type: 'string' }, 'no-build': { type: 'boolean' } },
    strict: true,
  });
  const ctx = runtimeContext(values.dir);
  if (values.yes) {
    run(ctx, 'Debian packages', 'bash', [join(REPO_ROOT, 'scripts', 'install-prereqs.sh')]);
    run(ctx, 'Docker engine', 'bash', [join(REPO_ROOT, 'scripts', 'ensure-docker.sh')]);
    run(ctx, 'base images', 'bash', [join(REPO_ROOT, 'scripts', 'base-images.sh')]);
  }
  await requireDocker(ctx.engine);
  if (!values['no-build']) {
    // index.html.gz: a UI built before the build compressed its files (web/precompress.ts) is built
    // again, or cell-caddy would serve it uncompressed (it no longer compresses per request).
    if (!['index.html', 'index.html.gz'].every((f) => existsSync(join(REPO_ROOT, 'web', 'dist', f)))) {
      run(ctx, 'web UI', process.execPath, [
        join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js'),
        'build',
        '--config',
        'web/vite.config.ts',
      ]);
    }
    run(ctx, 'images', 'bash', [join(REPO_ROOT, 'scripts', 'build-images.sh')]);
  }

  // cell-api sees only its own bridge address: it learns where devices reach this host from here.
  const host = readHostFacts();
  const desired = ctx.desired(host);
  console.log(`\n→ cell ${desired.cellId} in ${ctx.cellDir}`);
  // cell-wireguard loads what PIC rendered: the cell's key and its config exist before it starts.
  const wgConf = desired.containers.find((c) => c.service === 'wireguard')?.binds[0]?.host;
  if (wgConf) prepareWireguardBoot(cellPaths(ctx.apiDataDir).secrets, wgConf);
  // cell-caddy loads the cell CA's certificate from files at start: they exist before it does.
  const shared = caddyShared(ctx.cellDir);
  const delivered = (await deliverCertificate(ctx, shared.tlsDir)) === 'delivered';
  const caddy = new CaddyAdmin({ socketPath: shared.adminSocket });
  const actions = await applyDesired(desired, ctx.engine, {
    progress: (l) => console.log(`  ${l}`),
    prepareBind,
    writeFile: writeRenderedFile,
    // A running Caddy is offered its rendered config through its admin API (no restart); it keeps
    // running an equal one as it is. Offered even when the file did not change: a run that wrote it
    // and then failed to load it must not leave Caddy on the old config for good.
    // A certificate delivered in this run is read only by a forced load (the config may be equal).
    loadLive: async (spec, file) => {
      if (spec.service !== 'caddy') return;
      if (delivered) await caddy.reload(file.content);
      else await caddy.load(file.content);
    },
  });
  if (actions.length === 0) console.log('  nothing to do: the cell already matches its configuration');
  await waitHealthy(desired, ctx.engine, {
    timeoutMs: 180_000,
    progress: (l) => console.log(`  ${l}`),
    readiness: ctx.readiness,
  });
  console.log('  all services healthy');

  const api = desired.containers.find((c) => c.service === 'api')!;
  const token = await ctx.engine.exec(api.name, [
    'node',
    'src/cli/main.ts',
    'setup-token',
    '--data-dir',
    '/data',
  ]);
  const port = ctx.env.WEBUI_PORT ?? 8081;
  const wgPort = desired.containers.find((c) => c.service === 'wireguard')?.ports[0]?.hostPort;
  const endpoint = chooseEndpointHost(configuredEndpoint(ctx), host, guessEndpoint);
  console.log(
    `\nPeers dial ${endpoint.host}:${wgPort}${endpoint.source === 'config' ? '' : ' (change it in Settings → Network)'}.`,
  );
  console.log(`\nThe cell is up. Open http://${hostname()}:${port} (or http://<this host's IP>:${port}).`);
  if (token.exitCode === 0) {
    console.log('Setup token (enter it in the setup wizard; `./pic setup-token` issues a new one):');
    console.log(token.stdout.trim().split('\n').at(-1));
  } else {
    console.log('Setup is already complete: log in as admin.');
  }
  return 0;
}
