// Accounts and sessions as stored: the rows the repositories hand to core and the API reads roles from.
import { z } from 'zod';

export const ROLES = ['admin', 'peer'] as const;
export const role = z.enum(ROLES);
export type Role = z.infer<typeof role>;

export interface UserRow {
  id: number;
  username: string;
  role: Role;
  password_hash: string;
  created_at: string;
  password_changed_at: string;
}

export interface SessionRow {
  /** SHA-256 of the cookie's id: the raw id is never stored. */
  id_hash: string;
  user_id: number;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  source: string;
}

/** A session joined with its user's name, role and two-factor state: one lookup per request. */
export interface SessionWithUser {
  user_id: number;
  csrf_token: string;
  last_seen_at: number;
  expires_at: number;
  username: string;
  role: Role;
  /** 1 when two-factor login is on for the user (SQLite has no booleans). */
  totp_enabled: number;
}

/** A user's two-factor (TOTP) state as stored; no row means two-factor was never set up. */
export interface TotpRow {
  user_id: number;
  /** Base32 secret in use; null until a code confirmed it. */
  secret: string | null;
  /** Base32 secret from setup, waiting for its first code. */
  pending_secret: string | null;
  /** The last 30-second step a code was accepted for: a code is never accepted twice (no replay). */
  last_step: number | null;
  enabled_at: string | null;
}

/**
 * A code typed at login or to turn two-factor off: 6 digits, or a recovery code (xxxx-xxxx-xxxx-xxxx,
 * any case, dashes optional). An allow-list like every field: anything else is a 400, never a guess.
 */
export const twoFactorCode = z
  .string()
  .trim()
  .regex(/^(\d{6}|[A-Za-z2-7]{4}(-?[A-Za-z2-7]{4}){3})$/, 'must be a 6-digit code or a recovery code');
