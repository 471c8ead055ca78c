// Every route the API serves. A capability adds its array here.
import type { RouteDef } from '../route.ts';
import { authRoutes } from './auth.ts';
import { backupScheduleRoutes } from './backup-schedule.ts';
import { backupRoutes } from './backups.ts';
import { blocklistRoutes } from './blocklists.ts';
import { configRoutes } from './config.ts';
import { containerRoutes } from './containers.ts';
import { ddnsRoutes } from './ddns.ts';
import { dnsRoutes } from './dns.ts';
import { filesRoutes } from './files.ts';
import { healthRoutes } from './health.ts';
import { logRoutes } from './logs.ts';
import { mailAutoconfigRoutes } from './mail-autoconfig.ts';
import { metricsRoutes } from './metrics.ts';
import { ntpRoutes } from './ntp.ts';
import { openApiRoutes } from './openapi.ts';
import { peerRoutes } from './peers.ts';
import { serviceAccountRoutes } from './service-accounts.ts';
import { serviceHookRoutes } from './service-hooks.ts';
import { serviceRoutes } from './services.ts';
import { setupRoutes } from './setup.ts';
import { storeKeyRoutes } from './store-keys.ts';
import { tlsRoutes } from './tls.ts';
import { vaultRoutes } from './vault.ts';
import { wireguardRoutes } from './wireguard.ts';

export const allRoutes: readonly RouteDef[] = [
  ...healthRoutes,
  ...setupRoutes,
  ...authRoutes,
  ...configRoutes,
  ...backupRoutes,
  ...logRoutes,
  ...serviceRoutes,
  ...serviceAccountRoutes,
  ...serviceHookRoutes,
  ...mailAutoconfigRoutes,
  ...filesRoutes,
  ...storeKeyRoutes,
  ...containerRoutes,
  ...openApiRoutes,
  ...peerRoutes,
  ...wireguardRoutes,
  ...dnsRoutes,
  ...blocklistRoutes,
  ...metricsRoutes,
  ...vaultRoutes,
  ...ntpRoutes,
  ...ddnsRoutes,
  ...tlsRoutes,
  ...backupScheduleRoutes,
];
