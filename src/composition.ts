// The one place where drivers, core and the API are wired together.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import type { AppDeps } from './api/deps.ts';
import { AuditService } from './core/audit-service.ts';
import { AuthService } from './core/auth/auth-service.ts';
import { createPasswordHasher, type PasswordHasher } from './core/auth/password.ts';
import { Sessions } from './core/auth/sessions.ts';
import { BackupScheduleService } from './core/backup/backup-schedule-service.ts';
import { BackupScheduler } from './core/backup/backup-scheduler.ts';
import { BackupService } from './core/backup/backup-service.ts';
import { cellClientAddress, socketAddress } from './core/client-address.ts';
import { ConfigService, type DataPlanePort } from './core/config-service.ts';
import { DdnsScheduler } from './core/ddns/ddns-scheduler.ts';
import { DdnsService } from './core/ddns/ddns-service.ts';
import { BlockedStatsService, clientsOf } from './core/dns/blocked-stats.ts';
import { BlocklistService } from './core/dns/blocklist-service.ts';
import { coreServiceNames, mailAutoconfigNames, storeServiceNames } from './core/dns/cell-zone-model.ts';
import { DnsService } from './core/dns/dns-service.ts';
import { FilesService } from './core/files/files-service.ts';
import { storeFilesState } from './core/files/store-files-state.ts';
import { FrontDoorTls, type FrontDoorTlsDeps } from './core/front-door/front-door-tls.ts';
import { LogSearch } from './core/logs/log-search.ts';
import { MetricsTokens } from './core/metrics/metrics-tokens.ts';
import { timed } from './core/metrics/timed.ts';
import { NtpService } from './core/ntp/ntp-service.ts';
import type { EndpointPort } from './core/peers/endpoint-port.ts';
import { isActive } from './core/peers/peer-lookup.ts';
import { PeersService } from './core/peers/peers-service.ts';
import { NO_WIREGUARD, type WireguardPort } from './core/peers/wireguard-port.ts';
import type { AcmePort } from './core/ports/acme.ts';
import type { RunningJob } from './core/ports/backup-engine.ts';
import type { BackupSource } from './core/ports/backup-source.ts';
import type { BlocklistFetcher } from './core/ports/blocklist-fetcher.ts';
import { type ChronycPort, NO_CHRONYC } from './core/ports/chronyc.ts';
import type { Clock } from './core/ports/clock.ts';
import type { ContainerEnginePort } from './core/ports/container-engine.ts';
import { type BlockedNames, type DnsServerPort, NO_DNS_SERVER } from './core/ports/dns-server.ts';
import type { HealthPort } from './core/ports/health.ts';
import type { InstalledServicesPort } from './core/ports/installed-services.ts';
import type { LogsPort } from './core/ports/logs.ts';
import type { ProcessRunner } from './core/ports/process-runner.ts';
import type { Readiness } from './core/ports/readiness.ts';
import type { HookRunner } from './core/ports/service-accounts.ts';
import type { ServiceFilesPort } from './core/ports/service-hooks.ts';
import type { InstalledServicesRepository, ServiceEnginePort } from './core/ports/service-store.ts';
import type { ServiceVolumesPort } from './core/ports/service-volumes.ts';
import type { UsersRepository } from './core/ports/users-repository.ts';
import { type ContainersPort, dockerContainers, noContainers } from './core/runtime/containers-service.ts';
import { dockerDataPlane } from './core/runtime/docker-data-plane.ts';
import { HealthMonitor } from './core/runtime/monitor.ts';
import { storeAccountTargets } from './core/service-store/account-targets.ts';
import { AccountsService } from './core/service-store/accounts-service.ts';
import { CaddyNetworks } from './core/service-store/caddy-networks.ts';
import { CLIENT_SETUPS } from './core/service-store/client-setup.ts';
import { coreHeldPorts } from './core/service-store/held-ports.ts';
import { hookTargets, ownNames } from './core/service-store/hook-targets.ts';
import { ServiceDnsRecords } from './core/service-store/service-dns-records.ts';
import { type ServiceLifecycle, serviceLifecycle } from './core/service-store/service-lifecycle.ts';
import { ServiceSettingsService } from './core/service-store/service-settings.ts';
import { ServiceTls } from './core/service-store/service-tls.ts';
import { StoreCatalog } from './core/service-store/store-catalog.ts';
import { StoreKeysService } from './core/service-store/store-keys-service.ts';
import { type StoreCell, StoreService } from './core/service-store/store-service.ts';
import { SetupService } from './core/setup-service.ts';
import { certificateBlocks, chainRoot } from './core/tls/chain-root.ts';
import { isAcmeMode } from './core/tls/tls-policy.ts';
import { TlsService } from './core/tls/tls-service.ts';
import { VaultService } from './core/vault/vault-service.ts';
import { acmeClient } from './drivers/acme/acme-client.ts';
import { sweepStaleTemps } from './drivers/atomic-file.ts';
import { backupTargetsFor } from './drivers/backup/backup-targets.ts';
import { cellBackupEngine, RESTORE_STEPS, type RestoreStep } from './drivers/backup/cell-backup-engine.ts';
import { rollForward, sweepStaging, takeInterruptedJob } from './drivers/backup/cell-state.ts';
import { tryJobLock } from './drivers/backup/job-lock.ts';
import { CaddyAdmin } from './drivers/caddy/caddy-admin.ts';
import { caddyTlsFiles } from './drivers/caddy/caddy-tls-files.ts';
import { loadBuiltinCatalog } from './drivers/catalog/builtin-catalog.ts';
import { loadBundledKeys } from './drivers/catalog/bundled-keys.ts';
import { systemClock } from './drivers/clock/system-clock.ts';
import { type Db, openDb, sqliteUnitOfWork } from './drivers/db.ts';
import { CONTROL_HELPER, ControlSession, ControlSessionError } from './drivers/dns/control-session.ts';
import { publicDnsLookup } from './drivers/dns/public-lookup.ts';
import { type Exec, UnboundControl } from './drivers/dns/unbound-control.ts';
import { envFileText, envFromProcess } from './drivers/docker/cell-env.ts';
import { dockerContainerNetworks } from './drivers/docker/container-networks.ts';
import { DockerEngine, openExecSession } from './drivers/docker/engine.ts';
import { HealthcheckReadiness } from './drivers/docker/healthcheck-readiness.ts';
import { externalBindRefusal, writeRenderedFile } from './drivers/docker/host-dirs.ts';
import { dockerServiceEngine, NO_SERVICE_ENGINE } from './drivers/docker/service-engine.ts';
import { serviceFiles } from './drivers/docker/service-files.ts';
import { dockerServiceVolumes } from './drivers/docker/service-volumes.ts';
import { FilesVolume } from './drivers/files/files-volume.ts';
import { blocklistFetcher } from './drivers/http/blocklist-fetcher.ts';
import { fetchClient } from './drivers/http/fetch-client.ts';
import { storeIndexFetcher } from './drivers/http/store-index-fetcher.ts';
import { LogRegistry } from './drivers/logging/log-registry.ts';
import { prometheusMetrics } from './drivers/metrics/prometheus-metrics.ts';
import { localChronyc } from './drivers/ntp/local-chronyc.ts';
import { type CellPaths, cellPaths, ensureDirs } from './drivers/paths.ts';
import { spawnRunner } from './drivers/process/spawn-runner.ts';
import { registryClient } from './drivers/registry/registry-client.ts';
import { sealedText } from './drivers/secrets/sealed-text.ts';
import { secretFile } from './drivers/secrets/secret-file.ts';
import { tlsFiles } from './drivers/secrets/tls-files.ts';
import { AuditStore } from './drivers/store/audit-store.ts';
import { BackupScheduleStore } from './drivers/store/backup-schedule-store.ts';
import { BlockedStatsStore } from './drivers/store/blocked-stats-store.ts';
import { BlocklistsStore } from './drivers/store/blocklists-store.ts';
import { CertificatesStore } from './drivers/store/certificates-store.ts';
import { ConfigStore } from './drivers/store/config-store.ts';
import { DdnsStore } from './drivers/store/ddns-store.ts';
import { DnsRecordsStore } from './drivers/store/dns-records-store.ts';
import { MetricsTokenStore } from './drivers/store/metrics-token-store.ts';
import { PeersStore } from './drivers/store/peers-store.ts';
import { ServiceAccountsStore } from './drivers/store/service-accounts-store.ts';
import {
  ServiceDnsRecordsStore,
  ServiceSettingsStore,
  ServiceTlsStore,
} from './drivers/store/service-hooks-store.ts';
import { SessionsStore } from './drivers/store/sessions-store.ts';
import { SetupStore } from './drivers/store/setup-store.ts';
import { StoreKeysStore } from './drivers/store/store-keys-store.ts';
import { StoreServicesStore } from './drivers/store/store-services-store.ts';
import { TlsStore } from './drivers/store/tls-store.ts';
import { UsersStore } from './drivers/store/users-store.ts';
import { vaultFiles } from './drivers/vault/vault-files.ts';
import { guessEndpoint, hostAddresses } from './drivers/wireguard/endpoint-guess.ts';
import { ExecWireguard } from './drivers/wireguard/exec-wireguard.ts';
import { hostFactsFromEnv } from './drivers/wireguard/host-facts.ts';
import { cachedResolver } from './drivers/wireguard/resolve-host.ts';
import { serverKeyFile } from './drivers/wireguard/server-key.ts';
import { cellIdFor, desiredState } from './render/runtime/desired-state.ts';
import { DEFAULT_UNPACK_LIMITS, DEFAULT_UPLOAD_MAX_BYTES, type ServiceVolume } from './schema/backup.ts';
import { type CellConfig, LOG_SERVICES, type LogService, vpnNetwork } from './schema/config.ts';
import { cidrRange, formatIpv4 } from './schema/fields.ts';
import { FILES_OWNER, FILES_SERVICE_ID, FILES_VOLUME } from './schema/files.ts';
import type { HostFacts } from './schema/host-facts.ts';
import { inIpv4Network } from './schema/in-network.ts';
import {
  type CellEnv,
  type CoreService,
  caddyShared,
  type DesiredState,
  hostFacts,
  IP_OFFSETS,
  IP_VARS,
  parseEnvFile,
} from './schema/runtime.ts';
import { serviceVolumeHostPath } from './schema/service-manifest.ts';
import type { StoreRouteFact } from './schema/store-sites.ts';

export const VERSION: string = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8'),
).version;

export interface CellOptions {
  dataDir: string;
  /**
   * What the store has installed (its HTTP routes, virtual IPs and upstreams): DNS names, Caddy's
   * servers, the grantable services and cell-caddy's networks follow it (ADR 0023). Default: an
   * in-memory one with nothing installed, until the store's own is wired here.
   */
  installedServices?: InstalledServicesPort;
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
  /** Where devices dial (default: the host facts `pic up` handed over, else this machine's interfaces). */
  endpoint?: EndpointPort;
  /** Outside Docker: a chronyd's command socket to read NTP status from (default: none, running=false). */
  chronycSocket?: string;
  /** The DDNS scheduler's clock (default: the system's; tests pass a fake they advance). */
  clock?: Clock;
  /** The cell's resolver (default: cell-dns through docker exec in the cell, else none: records are stored). */
  dns?: DnsServerPort;
  /** The ACME client (default: acme-client with the system's roots; tests trust their Pebble's). */
  acme?: AcmePort;
  /** Test knobs of the TLS service: how long an apply waits, the wait after publishing a TXT record. */
  tls?: { applyTimeoutMs?: number; dnsPropagationMs?: number };
  /** Fetches blocklist URLs (default: node's fetch, limits of ADR 0020). */
  blocklistFetcher?: BlocklistFetcher;
  /**
   * The cell's .env as text for backups (default: inside the cell, the .env `pic up` handed over;
   * outside it, none). The host commands pass the file's own text.
   */
  envText?: () => string | undefined;
  /** The rendered configs a backup carries (default: the cell's config/ inside it, else paths.config). */
  backupConfigDir?: string;
  /** Backup knobs for tests: scrypt's work factor, the upload cap, the unpack budgets. */
  backup?: { workFactor?: number; uploadMaxBytes?: number; limits?: typeof DEFAULT_UNPACK_LIMITS };
  /**
   * The backup engine scheduled backups are made with (ADR 0022); without one the schedule and its
   * targets are kept and shown, and each run fails as "no backup engine".
   */
  backupSource?: BackupSource;
  /** The services' data volumes backups carry (default: inside the cell, through Docker; else none). */
  serviceVolumes?: ServiceVolumesPort;
  /**
   * The cell's .env, for a host command (`pic backup`, `pic restore`): the store names its services'
   * containers with its PIC_NAME_PREFIX. Default: what `pic up` handed cell-api (PIC_CELL_ENV).
   */
  cellEnv?: CellEnv;
  /**
   * The service store's engine and where its services live (default: inside the cell, Docker and
   * PIC_CELL_DIR; outside it, no engine: installs answer 409). Tests pass a real engine, a temp cell
   * directory and a name prefix.
   */
  store?: {
    engine: ServiceEnginePort;
    cellDir: string;
    env?: CellEnv;
    caddyContainer?: string;
    healthTimeoutMs?: number;
    catalogDir?: string;
    /** The services' account hooks (tests on a real engine outside the cell). */
    hooks?: HookRunner;
  };
  /** Where the bundled store signing keys are read (default images/store/keys/; tests). */
  storeKeysDir?: string;
  /**
   * The port the cell's forwarders are asked on when a service's DNS records are checked in a public
   * mode (default 53; tests run their DNS server on another port of loopback).
   */
  publicDnsPort?: number;
  /** Limits of the remote store index's fetch and cache (tests shorten them). */
  storeIndex?: { timeoutMs?: number; maxBytes?: number; ttlMs?: number; retryMs?: number };
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
  /**
   * Inside the cell: keeps Caddy's HTTPS certificate current (checked at start, then daily); started
   * by `pic serve`.
   */
  frontDoor: { start(): void; stop(): void } | undefined;
  paths: CellPaths;
  sweptTemps: string[];
  /** The database itself, for tests and benchmarks that inspect what was stored; the API never sees it. */
  db: Db;
  users: UsersRepository;
  hasher: PasswordHasher;
  /** Re-publishes the DDNS address; running in long-lived cells, stopped by close(). */
  ddnsScheduler: DdnsScheduler | undefined;
  /** Runs the backup schedule; running in long-lived cells, stopped by close(). */
  backupScheduler: BackupScheduler | undefined;
  /** The store's installed services and their routes: DNS, Caddy and the firewall subscribe here. */
  installedServices: InstalledServicesPort;
  close(): void;
}

export function createCell(opts: CellOptions): Cell {
  const paths = cellPaths(opts.dataDir, opts.configDir);
  ensureDirs(paths);
  const sweptTemps = opts.sweepTemps === false ? [] : sweepStaleTemps(paths.data);
  const db = openDb(paths.db);
  // A restore committed before a crash is finished now, before anything reads the state; one that
  // stopped before its commit leaves a staging directory, deleted (ADR 0021).
  // Both under the job lock: a host command running a restore now has its own staging and swap.
  const startLock = opts.sweepTemps === false ? null : tryJobLock(paths.data);
  let finishedRestore = false;
  let interruptedJob: RunningJob | undefined;
  try {
    if (startLock) {
      interruptedJob = takeInterruptedJob(paths.data);
      finishedRestore = rollForward(paths.data, db);
      sweepStaging(paths.data);
    }
  } finally {
    startLock?.release();
  }
  const unitOfWork = sqliteUnitOfWork(db);
  const hasher = createPasswordHasher();
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
  const audit = new AuditService(new AuditStore(db));
  const users = new UsersStore(db);
  // A disabled peer is disabled everywhere: its login and every use of its sessions ask the peers.
  const peerDisabled = (username: string, role: string) =>
    role === 'peer' && deps.peers.accountDisabled(username);
  const sessions = new Sessions(new SessionsStore(db), Date.now, peerDisabled);
  const vault = new VaultService({
    files: vaultFiles(paths.secrets),
    certs: new CertificatesStore(db),
    unitOfWork,
    cellName: () => config.get().identity.cell_name,
    audit,
  });
  // Every port exists before the services that use it: inside the cell, the Docker-backed ones.
  // Caddy's certificate comes from the TLS service built below (called only once everything is built).
  // What is installed is the store's (built below, once its engine exists): DNS, Caddy and the
  // firewall read it through this forwarder. Tests may hand their own.
  const forwarder = new StoreForwarder();
  // One table of installed services for the store, the accounts and the zone.
  const installedRepo = new StoreServicesStore(db);
  const installed = opts.installedServices ?? forwarder;
  const docker = opts.docker
    ? dockerPorts(
        config,
        audit,
        logs,
        (identity) => deps.tls.certificateFor(identity),
        () => deps.store.volumes(),
        installed,
      )
    : undefined;
  // The .env the host handed cell-api (empty outside the cell) does not change while it runs.
  const hostEnv = envFromProcess();
  // Sampled at scrape time through `deps`, so the data plane wired below for Docker is what is read.
  const metrics = prometheusMetrics({
    peers: async () => {
      const list = deps.peers.list();
      const st = await deps.peers.status();
      return {
        total: list.length,
        enabled: list.filter((p) => p.enabled).length,
        live: st.running
          ? st.peers.map((p) => ({
              name: p.name,
              rx: p.rx,
              tx: p.tx,
              latestHandshake: p.latest_handshake ? Date.parse(p.latest_handshake) / 1000 : null,
            }))
          : [],
      };
    },
    services: () => deps.health.services(),
  });
  const clock = opts.clock ?? systemClock;
  const ddnsLog = logs.get('api');
  const ddns = new DdnsService({
    repo: new DdnsStore(db),
    token: secretFile(join(paths.secrets, 'ddns', 'token')),
    http: fetchClient(),
    clock,
    userAgent: `PIC pic-cell/${VERSION}`,
    log: (level, fields, msg) => ddnsLog[level]({ ddns: fields }, msg),
  });
  const tlsLog = logs.get('api');
  const tls = new TlsService({
    repo: new TlsStore(db),
    files: tlsFiles(paths.secrets),
    acme: opts.acme ?? acmeClient(),
    dns: ddns,
    vault,
    applied: () => config.applied().identity,
    // HTTP-01 proves names one by one: every installed service's names join the order (issue 13).
    serviceNames: () =>
      installedRepo
        .list()
        .filter((r) => r.state !== 'failed')
        .flatMap((r) => ownNames(r.manifest)),
    clock,
    audit,
    log: (level, fields, msg) => tlsLog[level]({ tls: fields }, msg),
    ...opts.tls,
  });
  // Scheduled backups (ADR 0022): the passphrase and each S3 target's secret key in 0600 files.
  const backupRepo = new BackupScheduleStore(db);
  // Inside the cell a directory target is at its mount, /backup-targets/<id>; outside, at its path.
  // The cell's own networks, where an S3 endpoint is refused unless the owner allowed it (ADR 0022).
  const cellNetworks = () => {
    const c = config.get();
    return [hostFacts(c, hostEnv).cellNetwork, vpnNetwork(c.identity.vpn_address)];
  };
  const backupTargets = backupTargetsFor(opts.docker === true, cellNetworks);
  const backupSecret = (name: string) => secretFile(join(paths.secrets, 'backup', name));
  const backupSchedule = new BackupScheduleService({
    repo: backupRepo,
    passphrase: backupSecret('passphrase'),
    targetSecret: (id) => backupSecret(`target-${id}.key`),
    targets: backupTargets,
    clock,
    // This process makes backups itself (BackupService below), so scheduled ones always have an engine.
    available: true,
    cellNetworks,
  });
  // A domain or mode change is applied only once its certificate is here (ADR 0019).
  config.beforeApply((target, changes) => tls.prepareApply(target, changes));
  // A renewed ACME certificate goes to Caddy at once (the files, then a forced load).
  if (docker) tls.onCertificate(() => docker.frontDoor.refresh());
  const peersRepo = new PeersStore(db);
  const dnsLog = logs.get('dns');
  // Blocklists and DNS need each other: the lists' changes apply through DnsService, which reads
  // their names at each apply.
  let applyDns: () => Promise<unknown> = async () => undefined;
  // The blocklist's blocked queries per peer (ADR 0020, amendment): drained from cell-dns, kept hourly.
  const blockedStats = new BlockedStatsService({
    repo: new BlockedStatsStore(db),
    drain: () => dns.blockedCounts(),
    clients: () => clientsOf(dns.model().zone.views, peersRepo.list()),
    peers: () => peersRepo.list(),
    clock,
    onError: (what, err) => dnsLog.warn({ err: (err as Error).message }, what),
  });
  const blocklists: BlocklistService = new BlocklistService({
    repo: new BlocklistsStore(db),
    fetcher: opts.blocklistFetcher ?? blocklistFetcher(),
    clock,
    // The zone served (the applied config's): its names are never blocked.
    zone: () => config.applied().identity.domain,
    apply: () => applyDns(),
    blockedQueries: (): Promise<number | undefined> => dns.blockedQueries(),
    peers: () => peersRepo.list(),
    counts: blockedStats,
    onError: (what, err) => dnsLog.error({ err: (err as Error).message }, what),
  });
  // The records installed store services need (their dns_records hook), served in every view.
  const serviceRecords = new ServiceDnsRecordsStore(db);
  const dns: DnsService = new DnsService({
    repo: new DnsRecordsStore(db),
    serviceRecords: () => serviceRecords.list().map((r) => ({ ...r, service: r.serviceId })),
    unitOfWork,
    // The applied config: a domain change waits in the pending step (ADR 0019) like Caddy's and the
    // certificate's, and the zone switches when it is applied (onApplied below), not at the PUT.
    config: { get: () => config.applied() },
    peers: () => {
      const now = Date.now();
      return peersRepo.list().map((p) => ({
        name: p.name,
        address: p.address,
        services: p.services,
        blocklists: p.blocklists,
        active: isActive(p, now),
      }));
    },
    cellNetwork: (c) => hostFacts(c, hostEnv).cellNetwork,
    // The core services, then each installed store service's names at its virtual IP (ADR 0023).
    services: (cellNetwork) => [
      ...coreServiceNames(cellNetwork),
      ...storeServiceNames(
        installed.routes(),
        config.applied().identity.domain,
        cellNetwork,
        installed.services(),
      ),
      // autoconfig.<domain> at the front door while email is installed (mail apps' autoconfig).
      ...mailAutoconfigNames(
        installedRepo.list().some((r) => r.state === 'running' && CLIENT_SETUPS[r.id]?.autoconfig),
        cellNetwork,
      ),
    ],
    server: docker?.dns ?? opts.dns ?? NO_DNS_SERVER,
    blocked: (): BlockedNames => blocklists.blocked(),
    onError: (what, err) => dnsLog.error({ err: (err as Error).message }, what),
  });
  applyDns = () => dns.apply();
  config.onApplied(() => void dns.apply());
  // The installed services' volumes a backup carries: through Docker inside the cell; outside, none.
  const serviceVolumes = opts.serviceVolumes ?? docker?.volumes ?? testVolumes();
  const backupEngine = cellBackupEngine({
    db,
    dataDir: paths.data,
    ...backupConfigDir(opts, paths),
    env:
      opts.envText ??
      (() => (opts.docker && Object.keys(hostEnv).length > 0 ? envFileText(hostEnv) : undefined)),
    picVersion: VERSION,
    limits: opts.backup?.limits ?? DEFAULT_UNPACK_LIMITS,
    ...backupTestKnobs(opts),
    ...(serviceVolumes ? { volumes: serviceVolumes } : {}),
  });
  if (opts.sweepTemps !== false) backupEngine.files.sweepPartial();
  const backupLog = logs.get('api');
  // After a restore's swap: what is cached goes, and every daemon gets its configuration again.
  const afterRestore = async () => {
    config.reload();
    vault.forget();
    await config.reapply(deps.dataPlane);
    await deps.peers
      .applyInFull()
      .catch((err: Error) => backupLog.warn({ err: err.message }, 'WireGuard apply after restore failed'));
    await dns
      .apply()
      .catch((err: Error) => backupLog.warn({ err: err.message }, 'DNS apply after restore failed'));
    docker?.frontDoor.refresh();
  };
  const backups = new BackupService({
    engine: backupEngine,
    version: VERSION,
    identity: () => {
      const { cell_name, domain } = config.get().identity;
      return { cell_name, domain };
    },
    audit,
    afterRestore,
    // Inside the cell: the restored store services run again before their volumes are put back.
    ...(docker
      ? { beforeVolumes: () => deps.store.resume(), afterVolumes: () => deps.store.restartAll() }
      : {}),
    uploadMaxBytes: opts.backup?.uploadMaxBytes ?? DEFAULT_UPLOAD_MAX_BYTES,
    log: (level, fields, msg) => backupLog[level]({ backup: fields }, msg),
    ...(interruptedJob ? { interrupted: { job: interruptedJob, finishedFromJournal: finishedRestore } } : {}),
  });
  const storeKeys = new StoreKeysService({
    repo: new StoreKeysStore(db),
    bundled: loadBundledKeys(opts.storeKeysDir),
  });
  // One view of the cell for the store and the accounts (one table of installed services, above).
  const storeCell = storeCellFn(opts, config, opts.cellEnv ?? hostEnv, docker);
  const storeLogger = logs.get('api');
  const hooks = docker?.hooks ?? opts.store?.hooks ?? NO_HOOKS;
  const accountsRepo = new ServiceAccountsStore(
    db,
    sealedText(secretFile(join(paths.secrets, 'service-accounts.key'))),
  );
  // A store service's manifest hooks (issue 13): certificates in its volume, settings, DNS records.
  const targets = hookTargets({
    repo: installedRepo,
    prefix: () => storeCell().prefix,
    // The catalog as listed now (detail is a 404 for an id it does not offer).
    known: (id) =>
      store.detail(id).then(
        () => true,
        () => false,
      ),
  });
  const hookLog = (level: 'info' | 'warn', fields: Record<string, unknown>, msg: string) =>
    storeLogger[level]({ store: fields }, msg);
  const identity = () => config.applied().identity;
  let unknownRootWarned: string | undefined;
  const serviceTls = new ServiceTls({
    files: docker?.serviceFiles ?? serviceFiles({ cellDir: storeCell().cellDir }),
    repo: new ServiceTlsStore(db),
    targets,
    hooks,
    cell: {
      domain: () => identity().domain,
      isPublic: () => isAcmeMode(identity().domain_mode),
      caRoot: () => vault.rootPem(),
      async issue(names, days) {
        const c = await vault.issue({ common_name: names[0]!, sans: names, days, client_auth: false });
        const notAfter = vault.list().find((v) => v.id === c.id)?.not_after ?? new Date().toISOString();
        return { certPem: c.certificate, chainPem: c.chain, keyPem: c.private_key, notAfter };
      },
      async acme() {
        const c = await deps.tls.certificate();
        if (c.source !== 'acme' || c.fallback) return undefined;
        const full = c.certPem + c.chainPem;
        const root = chainRoot(full, [deps.tls.directoryRoots(), ...rootCertificates]);
        if (root) return { ...c, rootPem: root };
        // No known root issued the chain's top: ca.pem gets that top (what a client accepting a
        // partial chain can use; OpenSSL's clients refuse it), and the owner is told once how to fix it.
        const top = certificateBlocks(full).at(-1) ?? (await vault.rootPem());
        if (top !== unknownRootWarned) {
          unknownRootWarned = top;
          hookLog(
            'warn',
            { names: c.names },
            "no known root issued the cell's ACME certificate: store services given ca.pem will not verify it; add the CA's root to the TLS settings' directory_ca",
          );
        }
        return { ...c, rootPem: top };
      },
    },
    log: hookLog,
  });
  const serviceSettings = new ServiceSettingsService({
    repo: new ServiceSettingsStore(db, sealedText(secretFile(join(paths.secrets, 'service-settings.key')))),
    targets,
    hooks,
    accounts: (id) => accountsRepo.list(id).map((a) => a.username),
    log: hookLog,
  });
  const serviceDnsRecords = new ServiceDnsRecords({
    repo: serviceRecords,
    targets,
    hooks,
    zone: {
      domain: () => identity().domain,
      isPublic: () => isAcmeMode(identity().domain_mode),
      forwarders: () => [...config.applied().network.dns_forwarders],
      served: () => (dns.pending ? [] : dns.model().zone.records),
      apply: () => dns.apply(),
    },
    publicDns: publicDnsLookup(opts.publicDnsPort !== undefined ? { port: opts.publicDnsPort } : {}),
    log: hookLog,
  });
  const lifecycle = serviceLifecycle({
    tls: serviceTls,
    settings: serviceSettings,
    records: serviceDnsRecords,
    onError: (what, err) => storeLogger.warn({ err: (err as Error).message }, what),
  });
  const store = storeService(
    opts,
    config,
    installedRepo,
    storeCell,
    docker,
    storeLogger,
    storeKeys,
    lifecycle,
    () => dns.apply(),
  );
  forwarder.bind(store);
  // The store services learn the domain from their containers' environment (PIC_CELL_DOMAIN), their
  // certificates and their DNS records: those made for another domain are made again (followDomain),
  // after a DNS apply attempt queued behind the switch's own, so the devices' names move first. At
  // each apply, and from the tick below for a service that was busy or a pass cut short by a restart.
  const followDomain = () =>
    void store
      .followDomain()
      .catch((err: Error) =>
        storeLogger.error({ err: err.message }, 'making the store services again for the new domain'),
      );
  config.onApplied(() => followDomain());
  const serviceAccounts = new AccountsService({
    repo: accountsRepo,
    targets: storeAccountTargets({
      repo: installedRepo,
      cell: storeCell,
      known: (id) => store.knows(id),
    }),
    hooks,
    peerExists: (name) => peersRepo.byName(name) !== undefined,
    onError: (what, err) => logs.get('api').warn({ err: (err as Error).message }, what),
  });
  // The file browser works on the Files service's volume where cell-api sees it: the cell directory
  // (inside the cell, the volume is mounted into cell-api at its host path; ADR 0010).
  const files = new FilesService({
    volume: new FilesVolume({
      root: join(storeCell().cellDir, serviceVolumeHostPath(FILES_SERVICE_ID, FILES_VOLUME)),
      owner: FILES_OWNER,
    }),
    service: storeFilesState({ repo: installedRepo, known: (id) => store.knows(id) }),
    accounts: () => accountsRepo.list(FILES_SERVICE_ID).map((r) => r.username),
  });
  const setupStore = new SetupStore(db);
  const deps: AppDeps = {
    config,
    sessions,
    store,
    storeKeys,
    serviceAccounts,
    serviceSettings,
    serviceDnsRecords,
    files,
    setup: new SetupService({
      setup: setupStore,
      users,
      config,
      unitOfWork,
      hasher,
      // The data plane `pic up` started from the defaults takes the owner's configuration at once.
      afterComplete: () =>
        config
          .apply(deps.dataPlane)
          .then(
            () => undefined,
            (err: Error) =>
              logs.get('config').warn({ err: err.message }, 'applying the configuration after setup failed'),
          )
          // The services chosen in the wizard, in the background (each one's job shows its progress).
          .then(() => void store.installRequested(setupStore.requestedServices())),
    }),
    auth: new AuthService(users, sessions, hasher, {
      // Peers on the cell's VPN keep their own login budget while strangers exhaust an account's:
      // only addresses an enabled peer holds (anything else in the range is nobody's device).
      trustedSource: (source) =>
        inIpv4Network(source, vpnNetwork(config.get().identity.vpn_address)) &&
        deps.peers.activeAddress(source),
      accountDisabled: peerDisabled,
    }),
    audit,
    logs,
    logSearch: new LogSearch({ files: logs, ...(docker ? { daemonOutput: docker.daemonOutput } : {}) }),
    dataPlane: timed(docker?.dataPlane ?? opts.dataPlane ?? noDataPlane, 'applyConfig', (s) =>
      metrics.observeApply('config', s),
    ),
    health: docker?.monitor ?? opts.health ?? noDataPlane,
    containers: docker?.containers ?? noContainers,
    peers: new PeersService({
      repo: peersRepo,
      logins: users,
      unitOfWork,
      config,
      hasher,
      wireguard: timed(docker?.wireguard ?? opts.wireguard ?? NO_WIREGUARD, 'apply', (s) =>
        metrics.observeApply('wireguard', s),
      ),
      dns,
      serverKey: serverKeyFile(paths.secrets),
      endpoint: opts.endpoint ?? endpointFacts(hostEnv, opts.docker === true),
      hostFacts: (config) => hostFacts(config, hostEnv),
      installed: () => installed.routes(),
      installedServices: () => installed.services(),
      onError: (what, err) => logs.get('wireguard').error({ err: (err as Error).message }, what),
      // Its accounts on every store service go with it (the spec); a failed one is retried at start.
      onRemoved: () => void deps.serviceAccounts.removeOrphans(),
    }),
    dns,
    blocklists,
    metrics,
    metricsTokens: new MetricsTokens(new MetricsTokenStore(db)),
    vault,
    tls,
    ntp: new NtpService(
      docker?.chronyc ?? (opts.chronycSocket ? localChronyc(opts.chronycSocket) : NO_CHRONYC),
      { onError: (err) => logs.get('ntp').debug({ err: (err as Error).message }, 'chronyc did not answer') },
    ),
    ddns,
    backups,
    backupSchedule,
    version: VERSION,
    startedAt: new Date(),
    // Only inside the cell do VPN peers arrive from their block of the cell network (ADR 0017).
    clientAddress: opts.docker
      ? cellClientAddress(config, (c) => hostFacts(c, hostEnv).cellNetwork)
      : socketAddress,
    installedServices: installed,
  };
  // An install or uninstall: Caddy first (its networks, then its servers for the services), then the
  // names and the firewall, so a name resolves and a grant opens only once Caddy serves the service.
  // Each step that fails stays pending: the DNS and peers ticks retry theirs, the store tick Caddy's.
  const storeLog = logs.get('api');
  const applyInstalled = async () => {
    await docker?.caddyStore
      .sync()
      .catch((err: Error) =>
        storeLog.warn({ err: err.message }, 'Caddy could not take the installed services'),
      );
    await Promise.all([dns.apply(), deps.peers.applier.applyStored()]);
  };
  const unsubscribeInstalled = installed.onChange(() => void applyInstalled());
  // Expiry and pending applies every 5 s, traffic samples every 30 s; short-lived CLI commands skip it.
  const ticker =
    (opts.background ?? opts.sweepTemps !== false)
      ? setInterval(() => {
          void deps.peers.tick();
          void deps.dns.tick();
          void deps.tls.tick();
          void deps.blocklists.tick(); // fetches only the URL lists that are due (daily)
          void blockedStats.tick(); // drains cell-dns's blocked-query counts every 30 s
          void serviceTls.tick(); // store services' certificates: renewed, or rewritten for a new domain
          // cell-caddy back on the services' networks after a recreate (pic up, a config apply).
          void docker?.caddyStore.sync().catch(() => undefined);
          // A service back on the networks of the services it requires (issue 13), likewise.
          if (docker) void store.joinDependencies().catch(() => undefined);
          // Services still on an older domain (skipped busy, or a pass cut short): a no-op otherwise.
          if (docker) followDomain();
        }, 5_000).unref()
      : undefined;
  const background = opts.background ?? opts.sweepTemps !== false;
  // A restore finished from its journal now, or one killed after its commit (while re-applying).
  if (finishedRestore || (interruptedJob?.kind === 'restore' && interruptedJob.committed))
    void afterRestore().catch((err: Error) =>
      backupLog.error(
        { err: err.message },
        'applying the configuration after a restore finished at start failed',
      ),
    );
  const ddnsScheduler = background
    ? new DdnsScheduler(ddns, clock, (err) =>
        ddnsLog.error({ err: (err as Error).message }, 'DDNS publish failed'),
      )
    : undefined;
  ddnsScheduler?.start();
  const backupScheduler = background
    ? new BackupScheduler({
        repo: backupRepo,
        source: opts.backupSource ?? scheduledFrom(backups),
        targets: backupTargets,
        passphrase: backupSecret('passphrase'),
        targetSecret: (id) => backupSecret(`target-${id}.key`),
        clock,
        audit,
        log: (level, fields, msg) => backupLog[level]({ backup: fields }, msg),
      })
    : undefined;
  // A stored target that fails the schema again (a crafted or damaged restore) is never used: said.
  for (const t of backupSchedule.invalidTargets())
    backupLog.warn({ backup: { target: t.id, kind: t.kind, error: t.error } }, 'Backup target refused');
  backupSchedule.onChange(() => backupScheduler?.replan());
  // Inside the cell: installed services whose containers went (`pic down`) are recreated; then the
  // accounts of peers deleted while a service was down are removed from it.
  // A restore cut short in its volume step (a crash) puts the volumes back, once the services run.
  const resumeVolumes = () =>
    backupEngine
      .resumeVolumes((text) => backupLog.warn({ backup: { note: text } }, 'restore of volumes'))
      .then((did) => {
        if (did) backupLog.info({}, 'the volumes of a restore cut short were put back');
      })
      .catch((err: Error) =>
        backupLog.error({ err: err.message }, 'putting back the volumes of a restore cut short failed'),
      );
  if (docker && background)
    void store
      .resume()
      .then(() => serviceAccounts.removeOrphans())
      .catch((err: Error) =>
        logs.get('api').error({ err: err.message }, 'resuming the store services failed'),
      )
      .then(resumeVolumes);
  else if (background) void resumeVolumes();
  backupScheduler?.start();
  return {
    deps,
    ddnsScheduler,
    backupScheduler,
    monitor: docker?.monitor,
    frontDoor: docker?.frontDoor,
    installedServices: store,
    paths,
    sweptTemps,
    db,
    users,
    hasher,
    close() {
      if (ticker) clearInterval(ticker);
      unsubscribeInstalled();
      ddnsScheduler?.stop();
      backupScheduler?.stop();
      logs.close();
      db.close();
    },
  };
}

/** The backup service as the scheduler sees it (ADR 0022's narrow port). */
function scheduledFrom(backups: BackupService): BackupSource {
  return {
    create: ({ passphrase, recipient }) =>
      backups.create({
        ...(passphrase !== undefined ? { passphrase } : {}),
        ...(recipient !== undefined ? { recipients: [recipient] } : {}),
        origin: 'schedule',
      }),
    wait: (id) => backups.wait(id),
    list: () => backups.list().backups,
    open: (id) => backups.download(id),
    remove: (id) => backups.remove(id, 'schedule'),
  };
}

/**
 * Test knob of the crash tests (a `pic serve` child outside the cell): PIC_TEST_VOLUMES, a JSON list
 * of volumes (service, volume, container, path: each checked by the driver's schema) reached through
 * this machine's Docker engine, as cell-api reaches the store's.
 */
function testVolumes(): ServiceVolumesPort | undefined {
  const raw = process.env.PIC_TEST_VOLUMES;
  if (!raw) return undefined;
  const list = JSON.parse(raw) as ServiceVolume[];
  return dockerServiceVolumes(new DockerEngine(), () => list);
}

/**
 * The backup engine's test knobs. A cell built in-process takes them as options; a `pic serve` child
 * (the crash tests) from its environment, read here only (drivers and core never read it), and only
 * when set: PIC_BACKUP_SCRYPT_WORK_FACTOR lowers scrypt's work factor for passphrase archives, and
 * PIC_TEST_CRASH_AT=<step> makes the process SIGKILL itself at that step of a restore's swap.
 */
function backupTestKnobs(opts: CellOptions): {
  workFactor?: number;
  onRestoreStep?: (step: RestoreStep) => void;
} {
  const envFactor = process.env.PIC_BACKUP_SCRYPT_WORK_FACTOR;
  if (envFactor && !/^([1-9]|1[0-9]|2[0-2])$/.test(envFactor))
    throw new Error(`PIC_BACKUP_SCRYPT_WORK_FACTOR must be an integer from 1 to 22, not ${envFactor}`);
  const workFactor = opts.backup?.workFactor ?? (envFactor ? Number(envFactor) : undefined);
  const crashAt = process.env.PIC_TEST_CRASH_AT;
  if (crashAt && !(RESTORE_STEPS as readonly string[]).includes(crashAt))
    throw new Error(`PIC_TEST_CRASH_AT must be one of ${RESTORE_STEPS.join(', ')}, not ${crashAt}`);
  return {
    ...(workFactor !== undefined ? { workFactor } : {}),
    ...(crashAt
      ? {
          onRestoreStep: (step: RestoreStep) => {
            if (step === crashAt) process.kill(process.pid, 'SIGKILL');
          },
        }
      : {}),
  };
}

/** Inside the cell, config/ is at its host path (PIC_CELL_DIR); outside, beside the data directory. */
function backupConfigDir(opts: CellOptions, paths: CellPaths): { configDir?: string } {
  if (opts.backupConfigDir) return { configDir: opts.backupConfigDir };
  const dir = opts.docker ? join(process.env.PIC_CELL_DIR ?? '/', 'config') : paths.config;
  return existsSync(dir) ? { configDir: dir } : {};
}

/**
 * The endpoint's facts: inside the cell, what `pic up` read on the host (PIC_HOST_FACTS); outside it,
 * this process runs on the host and reads its interfaces itself. The WireGuard port is published on
 * BIND_ADDRESS when the .env names one, else on every address of the host.
 */
function endpointFacts(env: CellEnv, inCell: boolean): EndpointPort {
  const host = hostFactsFromEnv();
  const bind = env.BIND_ADDRESS && env.BIND_ADDRESS !== '0.0.0.0' ? [env.BIND_ADDRESS] : undefined;
  return {
    host: () => host,
    guess: guessEndpoint,
    published: () => bind ?? host?.addresses ?? (inCell ? undefined : hostAddresses()),
    resolve: cachedResolver(),
  };
}

interface DockerPorts {
  monitor: HealthMonitor;
  /** Caddy's certificate: checked at start, daily, and when a renewal stored a new one (refresh). */
  frontDoor: { start(): void; stop(): void; refresh(): void };
  dataPlane: DataPlanePort;
  containers: ContainersPort;
  wireguard: WireguardPort | undefined;
  /** chronyc inside cell-ntp (docker exec), for the NTP status. */
  chronyc: ChronycPort;
  dns: DnsServerPort | undefined;
  /** A daemon's container output (Caddy logs to it), for the log search. */
  daemonOutput: (service: LogService, tail: number) => Promise<string | undefined>;
  /** The installed services' data volumes, streamed out of and into their containers (issue 11). */
  volumes: ServiceVolumesPort;
  /** The store's side of the engine: builds, service networks and containers. */
  store: ServiceEnginePort;
  /**
   * The cell's desired state; `store` defaults to the installed services' routes. The store itself
   * passes `[]` (it reads only the core's published ports, which no store route changes): its routes
   * come from its own cell facts, so reading them here would recurse.
   */
  desired(config: CellConfig, store?: readonly StoreRouteFact[]): DesiredState;
  /**
   * Caddy in step with the installed store services (ADR 0023): joins their networks, writes and
   * loads its config (nothing is sent when unchanged). Throws when Caddy did not take it.
   */
  caddyStore: { sync(): Promise<void> };
  /** Store services' account hooks, run in their containers (docker exec; the password on stdin). */
  hooks: HookRunner;
  /** Files the store writes into a service's volume (its certificates), through the engine. */
  serviceFiles: ServiceFilesPort;
}

/** The Docker-backed data plane, container manager, WireGuard and health monitor, for cell-api in the cell. */
function dockerPorts(
  config: ConfigService,
  audit: AuditService,
  logs: LogsPort,
  certificateFor: FrontDoorTlsDeps['certificateFor'],
  storeVolumes: () => ServiceVolume[],
  installed: InstalledServicesPort,
): DockerPorts {
  const engine = new DockerEngine();
  const cellDir = process.env.PIC_CELL_DIR ?? '/';
  const env = envFromProcess();
  // The host facts this container was created with, so its view of cell-api's own spec matches `pic up`'s.
  const host = hostFactsFromEnv();
  const desired = (config: CellConfig, store: readonly StoreRouteFact[] = installed.routes()) =>
    desiredState({ config, env, cellDir, dockerGid: engine.socketGid(), host, store });
  const d = desired(config.get());
  const wgName = d.containers.find((c) => c.service === 'wireguard')?.name;
  const ntpName = d.containers.find((c) => c.service === 'ntp')?.name;
  const dnsName = d.containers.find((c) => c.service === 'dns')?.name;
  const caddyName = d.containers.find((c) => c.service === 'caddy')?.name;
  const log = logs.get('monitor');
  const record = (action: string, target: string, ok: boolean, detail: string | null) =>
    audit.record({ source: 'monitor', action, target, outcome: ok ? 'success' : 'failure', detail });
  const monitor = new HealthMonitor(
    engine,
    d.containers.map((c) => ({ service: c.service, container: c.name })),
    {
      transition(service, from, to, error) {
        (to === 'running' ? log.info : log.warn).call(
          log,
          { service, from, to, error },
          'service state changed',
        );
        record(
          'service state changed',
          service,
          to === 'running',
          `${from} -> ${to}${error ? `: ${error}` : ''}`,
        );
      },
      restarted(service, ok, error) {
        (ok ? log.info : log.error).call(log, { service, ok, error }, 'restarted a stopped service');
        record('service restarted', service, ok, error);
      },
    },
    Date.now,
    // The daemons' own checks while Docker says `starting`: the same readiness `pic up` polls.
    new HealthcheckReadiness(engine),
  );
  const configLog = logs.get('config');
  const caddyLog = logs.get('caddy');
  const shared = caddyShared(cellDir);
  const caddy = new CaddyAdmin({ socketPath: shared.adminSocket });
  const caddyConfig = (c: CellConfig) =>
    desired(c)
      .containers.find((s) => s.service === 'caddy')
      ?.files.find((f) => f.live)?.content;
  const tls = new FrontDoorTls({
    certificateFor,
    files: caddyTlsFiles(shared.tlsDir),
    reload: async (c) => {
      const text = caddyConfig(c);
      if (text) await caddy.reload(text);
    },
    log: (fields, msg) => caddyLog.info(fields, msg),
  });
  // What runs is the applied configuration: its names are the ones Caddy serves.
  const check = () =>
    tls
      .ensure(config.applied())
      .catch((err: Error) =>
        caddyLog.warn({ err: err.message }, 'could not deliver the HTTPS certificate to Caddy'),
      );
  let daily: NodeJS.Timeout | undefined;
  const caddyNetworks = caddyName
    ? new CaddyNetworks(dockerContainerNetworks(engine.docker), caddyName, env.PIC_NAME_PREFIX ?? '')
    : undefined;
  const syncStore = async () => {
    if (!caddyNetworks) return;
    const plan = await caddyNetworks.sync(installed.routes().map((r) => r.serviceId));
    if (!plan) return; // no cell-caddy: `pic up` renders the same config when it creates one
    const file = desired(config.applied())
      .containers.find((s) => s.service === 'caddy')
      ?.files.find((f) => f.live);
    if (!file) return;
    // The file first (what a restarted Caddy reads), then the running Caddy (sends nothing if unchanged).
    writeRenderedFile(file);
    await caddy.load(file.content);
  };
  return {
    caddyStore: { sync: syncStore },
    serviceFiles: serviceFiles({ cellDir, engine }),
    hooks: {
      run: (container, argv, stdin, limits) =>
        engine.exec(container, argv, { ...(stdin === undefined ? {} : { stdin }), ...limits }),
    },
    monitor,
    desired,
    store: dockerServiceEngine(engine),
    frontDoor: {
      refresh: () => void check(),
      start() {
        void check();
        daily = setInterval(() => void check(), 86_400_000).unref();
      },
      stop() {
        if (daily) clearInterval(daily);
      },
    },
    dataPlane: dockerDataPlane({
      engine,
      desired,
      writeFile: writeRenderedFile,
      caddy,
      tls,
      progress: (line) => configLog.info({ step: line }, 'applying the configuration'),
    }),
    containers: dockerContainers(engine, d.cellId, d.containers.find((c) => c.service === 'api')!.name),
    // Peers reach cell-wireguard through docker exec (pic-wg-apply, wg, iptables-restore inside it).
    wireguard: wgName ? execWireguard(engine, wgName) : undefined,
    // chronyc inside cell-ntp, with its default command socket there; the argv comes from core only.
    chronyc: ntpName ? { run: (args) => engine.exec(ntpName, ['chronyc', ...args]) } : NO_CHRONYC,
    // Caddy logs (access lines filtered of queries and headers) to its container's output only.
    daemonOutput: async (service, tail) =>
      service === 'caddy' && caddyName ? engine.logs(caddyName, tail) : undefined,
    // The installed services' backup_volumes, as the store's manifests declare them.
    volumes: dockerServiceVolumes(engine, storeVolumes),
    // Unbound's control commands run inside cell-dns, whose control channel is plain TCP on the
    // container's own loopback (ADR 0017), through one long-lived `docker exec` of pic-dns-control,
    // which speaks the protocol itself (a docker exec of unbound-control per command costs tens of ms:
    // the fallback when the session fails). The zone file goes to config/dns/, which cell-api mounts
    // at its host path and cell-dns includes.
    dns: dnsName
      ? new UnboundControl({
          exec: sessionOrExec(engine, dnsName),
          conf: '/etc/unbound/unbound.conf',
          zonePath: join(cellDir, 'config', 'dns', 'zone.conf'),
          // cell-dns reads config/dns/ at /etc/pic/unbound: the policy zones' paths in zone.conf.
          includeDirInDns: '/etc/pic/unbound',
          writeFile: (path, content) => void writeRenderedFile({ path, content }),
        })
      : undefined,
  };
}

/** The service store: inside the cell on Docker; outside it, the catalog only (changes answer 409). */
/** Without Docker no store service runs, so no hook is ever reached (the store answers 409 first). */
const NO_HOOKS: HookRunner = {
  run: () => Promise.reject(new Error('store services run only inside the cell, on Docker')),
};

/** The facts the store works with (names, networks, ports taken, domain), read at each call. */
function storeCellFn(
  opts: CellOptions,
  config: ConfigService,
  hostEnv: CellEnv,
  docker: DockerPorts | undefined,
): () => StoreCell {
  const cellDir =
    opts.store?.cellDir ?? (docker ? (process.env.PIC_CELL_DIR ?? '/') : join(opts.dataDir, '..'));
  const env = opts.store?.env ?? hostEnv;
  const prefix = env.PIC_NAME_PREFIX ?? '';
  const noCore: DesiredState = { cellId: '', network: { name: '', subnet: '', gateway: '' }, containers: [] };
  return (): StoreCell => {
    const c = config.applied();
    const { cellNetwork } = hostFacts(c, env);
    const { first } = cidrRange(cellNetwork);
    const core = Object.keys(IP_OFFSETS) as CoreService[];
    return {
      cellId: cellIdFor(cellDir),
      prefix,
      cellDir,
      bindAddress: env.BIND_ADDRESS ?? '0.0.0.0',
      cellNetwork,
      vpnNetwork: vpnNetwork(c.identity.vpn_address),
      taken: core.map((s) => env[IP_VARS[s]] ?? formatIpv4(first + IP_OFFSETS[s])),
      // No store routes: they are read through this very function (StoreService.routes → cell()).
      heldPorts: coreHeldPorts(docker ? docker.desired(c, []) : noCore),
      domain: c.identity.domain,
      caddyContainer: opts.store ? opts.store.caddyContainer : docker ? `${prefix}cell-caddy` : undefined,
      verification: c.image_verification,
    };
  };
}

function storeService(
  opts: CellOptions,
  config: ConfigService,
  repo: InstalledServicesRepository,
  cell: () => StoreCell,
  docker: DockerPorts | undefined,
  log: ReturnType<LogsPort['get']>,
  keys: StoreKeysService,
  lifecycle: ServiceLifecycle,
  beforeDomainFollow: () => Promise<unknown>,
): StoreService {
  const limits = opts.storeIndex ?? {};
  const catalog = new StoreCatalog({
    builtin: { list: () => loadBuiltinCatalog(opts.store?.catalogDir) },
    fetcher: storeIndexFetcher({
      ...(limits.timeoutMs !== undefined ? { timeoutMs: limits.timeoutMs } : {}),
      ...(limits.maxBytes !== undefined ? { maxBytes: limits.maxBytes } : {}),
    }),
    url: () => config.get().store_index_url,
    heldPorts: () => cell().heldPorts,
    ...(limits.ttlMs !== undefined ? { ttlMs: limits.ttlMs } : {}),
    ...(limits.retryMs !== undefined ? { retryMs: limits.retryMs } : {}),
    log: (level, fields, msg) => log[level]({ store: fields }, msg),
  });
  // A new URL is fetched at once (in the background): the catalog shows it when the owner looks.
  let lastUrl = config.get().store_index_url;
  config.onChange((c) => {
    if (c.store_index_url === lastUrl) return;
    lastUrl = c.store_index_url;
    if (lastUrl) void catalog.refresh();
  });
  return new StoreService({
    catalog,
    repo,
    engine: opts.store?.engine ?? docker?.store ?? NO_SERVICE_ENGINE,
    cell,
    // Remote images are verified against the registry they name, with the bundled keys (none yet)
    // and the owner's, read at each install; without a key, in enforce mode only the images this
    // host built from the catalog run.
    verify: { registry: registryClient(), keys: [], log },
    trustedKeys: () => keys.trusted(),
    lifecycle,
    beforeDomainFollow,
    ...(opts.store?.healthTimeoutMs !== undefined ? { healthTimeoutMs: opts.store.healthTimeoutMs } : {}),
    log: (level, fields, msg) => log[level]({ store: fields }, msg),
  });
}

/** unbound-control through the pic-dns-control session in cell-dns; a one-off exec when it fails. */
function sessionOrExec(engine: DockerEngine, container: string): Exec {
  const session = new ControlSession(() => openExecSession(engine, container, [CONTROL_HELPER]));
  return (argv, o) =>
    session.exec(argv, o).catch((err: unknown) => {
      // The commands are idempotent (add or remove these names, reload): running one again is safe.
      if (err instanceof ControlSessionError) return engine.exec(container, argv, o ?? {});
      throw err;
    });
}

const execWireguard = (engine: ContainerEnginePort, container: string) =>
  new ExecWireguard({ exec: (argv, o) => engine.exec(container, argv, o ?? {}) });

/** What the host commands (`pic up`, `down`, `status`, `peers`…) need, wired once here. */
export interface HostContext {
  cellDir: string;
  apiDataDir: string;
  /** The cell's `.env` (empty when there is none). */
  env: CellEnv;
  engine: ContainerEnginePort;
  /** Each container's own health check run on demand (`pic up` polls it instead of Docker's 15 s status). */
  readiness: Readiness;
  processes: ProcessRunner;
  /**
   * The desired state from the stored configuration (read through a short-lived cell); `host` is what
   * `pic up` read on the host for cell-api (left out, cell-api's spec carries no host facts).
   */
  desired(host?: HostFacts): DesiredState;
  /**
   * cell-wireguard through docker exec, when the engine answers and that container runs; undefined
   * otherwise (peers are then stored and applied when the data plane runs). `run` execs argv there.
   */
  wireguard(): Promise<{ port: WireguardPort; run(argv: string[]): Promise<string> } | undefined>;
}

export function createHostContext(cellDir: string): HostContext {
  const envPath = join(cellDir, '.env');
  const env = existsSync(envPath) ? parseEnvFile(readFileSync(envPath, 'utf8')) : {};
  const apiDataDir = join(cellDir, 'data', 'api');
  const engine = new DockerEngine();
  const desired = (host?: HostFacts) => {
    const cell = createCell({ dataDir: apiDataDir, sweepTemps: false, writeLogs: false });
    try {
      const config = cell.deps.config.get();
      // Directory backup targets that exist on this host are mounted into cell-api (ADR 0022). A
      // stored target that fails the schema (a crafted or damaged restore) is refused, never mounted.
      for (const t of cell.deps.backupSchedule.invalidTargets())
        console.warn(`pic: backup target ${t.id} (${t.kind}) is refused and not mounted: ${t.error}`);
      // Only a real directory (not a symlink, not reached through one) is mounted; it is not chowned:
      // the owner gives it to cell-api's uid (chown 1000 /mnt/usb/pic).
      const backupDirs = cell.deps.backupSchedule.directories().filter((d) => {
        const why = externalBindRefusal(d.path);
        if (why && existsSync(d.path)) console.warn(`pic: backup target ${d.id} is not mounted: ${why}`);
        return why === undefined;
      });
      // The installed store services' routes: caddy.json carries their servers from the start.
      const store = cell.deps.installedServices.routes();
      return desiredState({ config, env, cellDir, dockerGid: engine.socketGid(), host, backupDirs, store });
    } finally {
      cell.close();
    }
  };
  return {
    cellDir,
    apiDataDir,
    env,
    engine,
    readiness: new HealthcheckReadiness(engine),
    processes: spawnRunner,
    desired,
    async wireguard() {
      try {
        if (!(await engine.reachable())) return undefined;
        const name = desired().containers.find((c) => c.service === 'wireguard')?.name;
        if (!name) return undefined;
        const port = execWireguard(engine, name);
        if (!(await port.running())) return undefined;
        return { port, run: async (argv) => (await engine.exec(name, argv)).stdout };
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * The store's installed services before the store exists: the Docker ports and DNS are built first
 * (the store needs the engine), and read no route until the store is bound; listeners subscribed
 * early hear the store's changes once it is.
 */
class StoreForwarder implements InstalledServicesPort {
  #store: InstalledServicesPort | undefined;
  readonly #listeners = new Set<() => void>();

  bind(store: InstalledServicesPort): void {
    this.#store = store;
    store.onChange(() => {
      for (const l of this.#listeners) l();
    });
  }

  routes() {
    return this.#store?.routes() ?? [];
  }

  services() {
    return this.#store?.services() ?? [];
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/**
 * A host command's way to the installed services' volumes (`pic backup`, `pic restore`): the host's
 * Docker engine, as cell-api reaches it; undefined when it does not answer (a cell run by `pic serve`,
 * whose backups carry no volumes, as the API's there). `list` is the store's declarations.
 */
export async function hostServiceVolumes(
  list: () => ServiceVolume[],
): Promise<ServiceVolumesPort | undefined> {
  const engine = new DockerEngine();
  if (!(await engine.reachable())) return undefined;
  return dockerServiceVolumes(engine, list);
}
