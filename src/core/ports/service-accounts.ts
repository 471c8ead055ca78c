// What the per-peer accounts use-case needs: its rows, and how to reach an installed service's
// account hooks (the store knows which services are installed and their containers' names).
import type { ServiceAccountHooks } from '../../schema/service-manifest.ts';

export interface ServiceAccountRow {
  serviceId: string;
  username: string;
  password: string;
  createdAt: string;
}

export interface ServiceAccountsRepository {
  list(serviceId: string): ServiceAccountRow[];
  get(serviceId: string, username: string): ServiceAccountRow | undefined;
  ofUser(username: string): ServiceAccountRow[];
  usernames(): string[];
  put(row: ServiceAccountRow): void;
  delete(serviceId: string, username: string): void;
}

/** An installed service whose manifest declares account hooks, as the hooks run it. */
export interface AccountTarget {
  serviceId: string;
  name: string;
  hooks: ServiceAccountHooks;
  /** The engine's name of the container the hooks run in. */
  container: string;
  /** `https://<subdomain>.<domain>` of its first route, for the peer's settings. */
  url: string | null;
  /** The cell's domain (a mailbox's address is `<username>@<domain>`). */
  domain: string;
  /** `<name>.<domain>` of its first DNS name (`mail.<domain>`), where its host ports answer. */
  dnsName: string | null;
}

export interface AccountTargets {
  /** The service's target; undefined when it is not installed; `no_hooks` when it has no accounts. */
  target(serviceId: string): AccountTarget | 'not_installed' | 'no_hooks' | 'unknown';
  /** Every installed service with account hooks. */
  all(): AccountTarget[];
}

/** Bounds of one hook run: cut off (and rejected) past either. */
export interface HookLimits {
  timeoutMs: number;
  /** stdout and stderr together. */
  maxBytes: number;
}

/** Runs argv in a container, no shell; the password only ever travels on stdin. */
export interface HookRunner {
  run(
    container: string,
    argv: string[],
    stdin?: string,
    limits?: HookLimits,
  ): Promise<{ exitCode: number; stdout: string; stderr: string }>;
}
