import type { AuditService } from '../core/audit-service.ts';
import type { AuthService } from '../core/auth/auth-service.ts';
import type { Sessions } from '../core/auth/sessions.ts';
import type { BackupScheduleService } from '../core/backup/backup-schedule-service.ts';
import type { BackupService } from '../core/backup/backup-service.ts';
import type { ConfigService, DataPlanePort } from '../core/config-service.ts';
import type { DdnsService } from '../core/ddns/ddns-service.ts';
import type { BlocklistService } from '../core/dns/blocklist-service.ts';
import type { DnsService } from '../core/dns/dns-service.ts';
import type { FilesService } from '../core/files/files-service.ts';
import type { LogSearch } from '../core/logs/log-search.ts';
import type { MetricsTokens } from '../core/metrics/metrics-tokens.ts';
import type { NtpService } from '../core/ntp/ntp-service.ts';
import type { PeersService } from '../core/peers/peers-service.ts';
import type { HealthPort } from '../core/ports/health.ts';
import type { InstalledServicesPort } from '../core/ports/installed-services.ts';
import type { LogsPort } from '../core/ports/logs.ts';
import type { MetricsPort } from '../core/ports/metrics.ts';
import type { ContainersPort } from '../core/runtime/containers-service.ts';
import type { AccountsService } from '../core/service-store/accounts-service.ts';
import type { ServiceDnsRecords } from '../core/service-store/service-dns-records.ts';
import type { ServiceSettingsService } from '../core/service-store/service-settings.ts';
import type { StoreKeysService } from '../core/service-store/store-keys-service.ts';
import type { StoreService } from '../core/service-store/store-service.ts';
import type { SetupService } from '../core/setup-service.ts';
import type { TlsService } from '../core/tls/tls-service.ts';
import type { VaultService } from '../core/vault/vault-service.ts';

/** Everything the HTTP layer may use: use-cases and ports, never a store. Built once, by the composition root. */
export interface AppDeps {
  config: ConfigService;
  setup: SetupService;
  auth: AuthService;
  sessions: Sessions;
  audit: AuditService;
  logs: LogsPort;
  /** GET /api/logs: the log files and the daemons' own container output. */
  logSearch: LogSearch;
  dataPlane: DataPlanePort;
  health: HealthPort;
  containers: ContainersPort;
  peers: PeersService;
  dns: DnsService;
  blocklists: BlocklistService;
  metrics: MetricsPort;
  metricsTokens: MetricsTokens;
  /** The cell's certificate authority; serverCertificate() is what Caddy's wiring calls. */
  vault: VaultService;
  ntp: NtpService;
  ddns: DdnsService;
  /** Backups and restores, as background jobs (ADR 0021). */
  backups: BackupService;
  /** The certificate Caddy serves per domain mode; certificateFor() is the Caddy wiring's seam (ADR 0019). */
  tls: TlsService;
  /** Scheduled backups and their off-host targets (ADR 0022). */
  backupSchedule: BackupScheduleService;
  /** The service store: catalog, install, uninstall, restart (issue 12). */
  store: StoreService;
  /** The public keys signed store images are verified against (bundled and the owner's). */
  storeKeys: StoreKeysService;
  /** Per-peer accounts on installed store services (issue 12, part 4). */
  serviceAccounts: AccountsService;
  /** An installed service's typed settings and its status hook (issue 13). */
  serviceSettings: ServiceSettingsService;
  /** The DNS records installed services need, and their state in the zone and outside (issue 13). */
  serviceDnsRecords: ServiceDnsRecords;
  /** The UI's file browser over the Files service's volume (ADR 0010). */
  files: FilesService;
  version: string;
  startedAt: Date;
  /**
   * The client behind a request's address (socket, or Caddy's X-Forwarded-For): a VPN peer arrives
   * from its mapped address on the cell network (ADR 0015) and is named by its VPN address.
   */
  clientAddress: (ip: string) => string;
  /** What the store has installed: names, Caddy's servers and grants follow it (ADR 0023). */
  installedServices: InstalledServicesPort;
}
