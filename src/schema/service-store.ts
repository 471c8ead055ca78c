// The service store's API shapes (issue 12, "Lifecycle"): the catalog with each service's state and
// its running job, the active list, and the path parameter every store route takes.
import { z } from 'zod';
import { serviceId } from './service-manifest.ts';

/**
 * A service's state: `not_installed`; `installing`, `uninstalling`, `restarting` while a job runs;
 * `running` once installed and healthy; `failed` when the last install failed (last_error says why).
 */
export const SERVICE_STATES = [
  'not_installed',
  'installing',
  'uninstalling',
  'restarting',
  'running',
  'failed',
] as const;
export const serviceState = z.enum(SERVICE_STATES);
export type ServiceState = z.infer<typeof serviceState>;

/** The steps of an install (build … wire) and of an uninstall (stop, remove, wire), then the end. */
export const JOB_PHASES = [
  'queued',
  'build',
  'verify',
  'pull',
  'create',
  'start',
  'healthy',
  'wire',
  'stop',
  'remove',
  'done',
  'failed',
] as const;
export const jobPhase = z.enum(JOB_PHASES);
export type StoreJobPhase = z.infer<typeof jobPhase>;

export const storeJobSchema = z.object({
  action: z.enum(['install', 'uninstall']),
  phase: jobPhase,
  message: z.string(),
  error: z.string().optional(),
});
export type StoreJob = z.infer<typeof storeJobSchema>;

export const catalogItemSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  version: z.string(),
  kind: z.enum(['app', 'exit']),
  requires: z.array(z.string()),
  installed: z.boolean(),
  state: serviceState,
  /** `<subdomain>.<domain>` of each HTTP route. */
  subdomains: z.array(z.string()),
  /** It has per-peer accounts (GET/POST /api/services/<id>/accounts). */
  accounts: z.boolean(),
  /** The version installed, when it differs from the catalog's (an update is available). */
  installed_version: z.string().optional(),
  last_error: z.string().optional(),
  /** The running job, or the last one since this process started. */
  job: storeJobSchema.optional(),
  /** Where the catalog has it from: the repository, or the remote index (store_index_url). */
  source: z.enum(['builtin', 'index']),
});
export type CatalogItem = z.infer<typeof catalogItemSchema>;

/** An index entry that was refused (not offered), and why; `id` when the entry named a valid one. */
export const indexProblemSchema = z.object({ id: z.string().optional(), message: z.string() });
export type IndexProblem = z.infer<typeof indexProblemSchema>;

/** The remote index as last fetched (docs/store/remote-index.md); absent without store_index_url. */
export const indexStatusSchema = z.object({
  url: z.string(),
  /** When it was last fetched successfully; null before that. */
  fetched_at: z.string().nullable(),
  /** How many of its services the catalog offers. */
  services: z.number().int(),
  /** Why the last fetch failed (the services of the last good fetch stay offered). */
  error: z.string().optional(),
  problems: z.array(indexProblemSchema),
});
export type IndexStatus = z.infer<typeof indexStatusSchema>;

export const catalogSchema = z.object({
  services: z.array(catalogItemSchema),
  index: indexStatusSchema.optional(),
});

export const activeServiceSchema = z.object({
  id: z.string(),
  name: z.string(),
  state: serviceState,
  /** `https://<subdomain>.<domain>` of its first HTTP route; null when it has none. */
  url: z.string().nullable(),
});
export const activeServicesSchema = z.object({ services: z.array(activeServiceSchema) });

/** Path parameter of /api/services/catalog/<id>: a slug (400 otherwise). */
export const serviceIdParams = z.object({ id: serviceId }).strict();

export const serviceActionSchema = z.object({ service: z.string(), state: serviceState });
