// The audit trail: one row per state-changing request or host action, as stored and as served by
// GET /api/logs/audit.
import { z } from 'zod';

export const auditOutcome = z.enum(['success', 'failure', 'denied']);
export type AuditOutcome = z.infer<typeof auditOutcome>;

export const auditEntrySchema = z.object({
  ts: z.string(),
  username: z.string().nullable(),
  role: z.string().nullable(),
  source: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  outcome: auditOutcome,
  status: z.number().nullable(),
  detail: z.string().nullable(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

export const auditRowSchema = z.object({ id: z.number(), ...auditEntrySchema.shape });
export type AuditRow = z.infer<typeof auditRowSchema>;

export interface AuditQuery {
  username?: string | undefined;
  action?: string | undefined;
  outcome?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  q?: string | undefined;
  limit: number;
  offset: number;
}

/** Refused requests without a session, one row per source and minute (see AuditService.refusal). */
export const anonymousRefusalSchema = z.object({
  id: z.number(),
  minute: z.string(),
  source: z.string(),
  count: z.number(),
  last_action: z.string(),
  last_status: z.number().nullable(),
  last_target: z.string().nullable(),
});
export type AnonymousRefusal = z.infer<typeof anonymousRefusalSchema>;

/** What one anonymous refusal adds to its source's row for that minute. */
export interface AnonymousRefusalHit {
  minute: string;
  source: string;
  action: string;
  status: number | null;
  target: string | null;
}
