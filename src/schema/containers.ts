// What the API reports about the cell's containers and core services (GET /api/containers…,
// GET /api/services/status, /health): one zod schema per shape, the TypeScript types inferred from it.
import { z } from 'zod';

export const containerInfoSchema = z.object({
  name: z.string(),
  service: z.string(),
  image: z.string(),
  state: z.string(),
  health: z.string().nullable(),
  started_at: z.string().nullable(),
  restart_count: z.number(),
  ip: z.string().nullable(),
});
export type ContainerInfo = z.infer<typeof containerInfoSchema>;

export const containerMountSchema = z.object({
  container: z.string(),
  source: z.string(),
  destination: z.string(),
  read_only: z.boolean(),
});
export type ContainerMount = z.infer<typeof containerMountSchema>;

export const serviceHealthSchema = z.object({
  name: z.string(),
  state: z.enum(['running', 'stopped', 'unhealthy', 'starting', 'not_running', 'unknown']),
  since: z.string().nullable(),
  last_error: z.string().nullable(),
});
export type ServiceHealth = z.infer<typeof serviceHealthSchema>;
