import type { AuthService } from '../core/auth/auth-service.ts';
import type { Sessions } from '../core/auth/sessions.ts';
import type { ConfigService, DataPlanePort } from '../core/config-service.ts';
import type { MetricsTokens } from '../core/metrics/metrics-tokens.ts';
import type { PeersService } from '../core/peers/peers-service.ts';
import type { MetricsPort } from '../core/ports/metrics.ts';
import type { ContainersPort } from '../core/runtime/containers-service.ts';
import type { SetupService } from '../core/setup-service.ts';
import type { Db } from '../drivers/db.ts';
import type { LogRegistry } from '../drivers/logging/log-registry.ts';
import type { AuditStore } from '../drivers/store/audit-store.ts';
import type { UsersStore } from '../drivers/store/users-store.ts';

export interface ServiceHealth {
  name: string;
  state: 'running' | 'stopped' | 'unhealthy' | 'starting' | 'not_running' | 'unknown';
  since: string | null;
  last_error: string | null;
}

/** What the data plane reports; `pic serve` without Docker reports every service as not running. */
export interface HealthPort {
  services(): Promise<ServiceHealth[]>;
}

/** Everything the HTTP layer may use. Built once, by the composition root. */
export interface AppDeps {
  db: Db;
  config: ConfigService;
  setup: SetupService;
  auth: AuthService;
  sessions: Sessions;
  users: UsersStore;
  audit: AuditStore;
  logs: LogRegistry;
  dataPlane: DataPlanePort;
  health: HealthPort;
  containers: ContainersPort;
  peers: PeersService;
  metrics: MetricsPort;
  metricsTokens: MetricsTokens;
  version: string;
  startedAt: Date;
}
