// The one place where drivers, core and the API are wired together.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppDeps, HealthPort } from './api/deps.ts';
import { AuthService } from './core/auth/auth-service.ts';
import { Sessions } from './core/auth/sessions.ts';
import { ConfigService, type DataPlanePort } from './core/config-service.ts';
import { PeersService } from './core/peers/peers-service.ts';
import { NO_WIREGUARD, type WireguardPort } from './core/peers/wireguard-port.ts';
import { dockerContainers, noContainers } from './core/runtime/containers-service.ts';
import { dockerDataPlane, envFromProcess } from './core/runtime/docker-data-plane.ts';
import { HealthMonitor } from './core/runtime/monitor.ts';
import { SetupService } from './core/setup-service.ts';
import { sweepStaleTemps } from './drivers/atomic-file.ts';
import { openDb, sqliteUnitOfWork } from './drivers/db.ts';
import { DockerEngine } from './drivers/docker/engine.ts';
import { LogRegistry } from './drivers/logging/log-registry.ts';
import { type CellPaths, cellPaths, ensureDirs } from './drivers/paths.ts';
import { AuditStore } from './drivers/store/audit-store.ts';
import { ConfigStore } from './drivers/store/config-store.ts';
import { PeersStore } from './drivers/store/peers-store.ts';
import { SessionsStore } from './drivers/store/sessions-store.ts';
import { SetupStore } from './drivers/store/setup-store.ts';
import { UsersStore } from './drivers/store/users-store.ts';
import { guessEndpoint } from './drivers/wireguard/endpoint-guess.ts';
import { ExecWireguard } from './drivers/wireguard/exec-wireguard.ts';
import { serverKeyFile } from './drivers/wireguard/server-key.ts';
import { type CellConfig, LOG_SERVICES } from './schema/config.ts';
import { desiredState, hostFacts } from './schema/runtime.ts';

export const VERSION: string = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8'),
).version;

export interface CellOptions {
  dataDir: string;
  configDir?: string;
  echoLogs?: boolean;
  dataPlane?: DataPlanePort;
  health?: HealthPort;
  /** The cell's WireGuard interface and firewall (default: none, peers are stored and applied later). */
  wireguard?: WireguardPort;
  /** Run the peers' background tick (expiry, pending applies, traffic samples); default: long-lived cells. */
  background?: boolean;
  /**
   * Remove temp files a crash left (default true). Short-lived commands that may run beside a live
   * `pic serve` pass false: a temp file of the server's write in progress is not stale.
   */
  sweepTemps?: boolean;
  /** Write the service log files (default true); short-lived commands beside a live server do not. */
  writeLogs?: boolean;
  /** Inside the cell (PIC_DATA_PLANE=docker): drive and watch the containers through the socket. */
  docker?: boolean;
}

/** `pic serve` without Docker: the data plane is reported as not running. */
export const noDataPlane: DataPlanePort & HealthPort = {
  running: async () => false,
  applyConfig: async () => ({ restarted: [] }),
  services: async () =>
    ['cell-caddy', 'cell-dns', 'cell-ntp', 'cell-wireguard'].map((name) => ({
      name,
      state: 'not_running' as const,
      since: null,
      last_error: null,
    })),
};

export interface Cell {
  deps: AppDeps;
  /** Started by `pic serve` when the cell runs on Docker. */
  monitor: HealthMonitor | undefined;
  paths: CellPaths;
  sweptTemps: string[];
  close(): void;
}

export function createCell(opts: CellOptions): Cell {
  const paths = cellPaths(opts.dataDir, opts.configDir);
  ensureDirs(paths);
  const sweptTemps = opts.sweepTemps === false ? [] : sweepStaleTemps(paths.data);
  const db = openDb(paths.db);
  const config = new ConfigService(new ConfigStore(db));
  const logs = new LogRegistry(paths.logs, config.get().logging.levels, {
    echo: opts.echoLogs ?? false,
    files: opts.writeLogs !== false,
  });
  config.onChange((c) => {
    for (const s of LOG_SERVICES) {
      const level = c.logging.levels[s];
      if (level && logs.get(s).level !== level) logs.setLevel(s, level);
    }
  });
  const users = new UsersStore(db);
  const sessions = new Sessions(new SessionsStore(db));
  // The .env the host handed cell-api (empty outside the cell) does not change while it runs.
  const hostEnv = envFromProcess();
  const engine = opts.docker ? new DockerEngine() : undefined;
  const deps: AppDeps = {
    db,
    config,
    users,
    sessions,
    setup: new SetupService(db, new SetupStore(db), users, config),
    auth: new AuthService(users, sessions),
    audit: new AuditStore(db),
    logs,
    dataPlane: opts.dataPlane ?? noDataPlane,
    health: opts.health ?? noDataPlane,
    containers: noContainers,
    peers: new PeersService({
      repo: new PeersStore(db),
      logins: users,
      unitOfWork: sqliteUnitOfWork(db),
      config,
      // Built before the service (no late attach): cell-wireguard through docker exec inside the cell.
      wireguard: opts.wireguard ?? (engine ? dockerWireguard(engine, config.get()) : NO_WIREGUARD),
      serverKey: serverKeyFile(paths.secrets),
      guessEndpoint,
      hostFacts: (config) => hostFacts(config, hostEnv),
      onError: (what, err) => logs.get('wireguard').error({ err: (err as Error).message }, what),
    }),
    version: VERSION,
    startedAt: new Date(),
  };
  // Expiry and pending applies every 5 s, traffic samples every 30 s; short-lived CLI commands skip it.
  const ticker =
    (opts.background ?? opts.sweepTemps !== false)
      ? setInterval(() => void deps.peers.tick(), 5_000).unref()
      : undefined;
  const monitor = engine ? wireDocker(deps, engine) : undefined;
  return {
    deps,
    monitor,
    paths,
    sweptTemps,
    close() {
      if (ticker) clearInterval(ticker);
      logs.close();
      db.close();
    },
  };
}

/** What the cell's containers should be, as cell-api inside the cell sees it. */
function desiredFor(engine: DockerEngine) {
  const cellDir = process.env.PIC_CELL_DIR ?? '/';
  return (config: CellConfig) =>
    desiredState({ config, env: envFromProcess(), cellDir, dockerGid: engine.socketGid() });
}

/** Peers reach cell-wireguard through docker exec (pic-wg-apply: wg set/addconf, iptables-restore). */
function dockerWireguard(engine: DockerEngine, config: CellConfig): WireguardPort {
  const wgName = desiredFor(engine)(config).containers.find((c) => c.service === 'wireguard')?.name;
  return wgName ? new ExecWireguard({ exec: (argv, o) => engine.exec(wgName, argv, o ?? {}) }) : NO_WIREGUARD;
}

/** The Docker-backed data plane and health monitor, for cell-api running inside the cell. */
function wireDocker(deps: AppDeps, engine: DockerEngine): HealthMonitor {
  const desired = desiredFor(engine);
  const log = deps.logs.get('monitor');
  const audit = (action: string, target: string, ok: boolean, detail: string | null) =>
    deps.audit.append({
      ts: new Date().toISOString(),
      username: null,
      role: null,
      source: 'monitor',
      action,
      target,
      outcome: ok ? 'success' : 'failure',
      status: null,
      detail,
    });
  const monitor = new HealthMonitor(
    engine,
    desired(deps.config.get()).containers.map((c) => ({ service: c.service, container: c.name })),
    {
      transition(service, from, to, error) {
        (to === 'running' ? log.info : log.warn).call(
          log,
          { service, from, to, error },
          'service state changed',
        );
        audit(
          'service state changed',
          service,
          to === 'running',
          `${from} -> ${to}${error ? `: ${error}` : ''}`,
        );
      },
      restarted(service, ok, error) {
        (ok ? log.info : log.error).call(log, { service, ok, error }, 'restarted a stopped service');
        audit('service restarted', service, ok, error);
      },
    },
  );
  deps.health = monitor;
  deps.dataPlane = dockerDataPlane({ engine, desired });
  const d = desired(deps.config.get());
  deps.containers = dockerContainers(engine, d.cellId, d.containers.find((c) => c.service === 'api')!.name);
  return monitor;
}
