// Per-peer accounts on installed store services (the spec's "Managing peer accounts on services"):
// an account is named after a peer; its password is the owner's or generated, shown once to the
// owner and afterwards only to that peer (on its dashboard), never in a list, a log or an argv.
import { z } from 'zod';

/** A peer's name as an account name: what the service's hook scripts use in paths and files. */
export const accountUsername = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be a peer name: lowercase letters, digits, - and _');

/** Printable, one line: it goes to the hook on stdin, one line, so no newline or control character. */
export const accountPassword = z
  .string()
  .min(12, 'must be at least 12 characters')
  .max(128)
  .regex(/^[\x20-\x7e]+$/, 'must be printable ASCII on one line');

export const addAccountBodySchema = z
  .object({ username: accountUsername, password: accountPassword.optional() })
  .strict();

export const serviceAccountSchema = z.object({
  username: z.string(),
  created_at: z.string(),
  /** Whether the service's own list shows it (false: it went missing there; re-add it). */
  in_service: z.boolean().nullable(),
});

export const serviceAccountsSchema = z.object({
  service: z.string(),
  accounts: z.array(serviceAccountSchema),
});

export const createdAccountSchema = z.object({
  service: z.string(),
  username: z.string(),
  /** Shown once here when PIC generated it (the peer sees it on its dashboard). */
  password: z.string().optional(),
  generated: z.boolean(),
});

/** One server a device is told to use: e.g. IMAP at mail.<domain> on 993 over TLS. */
export const clientServerSchema = z.object({
  protocol: z.enum(['imap', 'smtp', 'caldav', 'carddav', 'webdav']),
  host: z.string(),
  port: z.number().int(),
  /** `tls`: TLS from the first byte (SSL/TLS in mail apps, HTTPS); `starttls`: STARTTLS. */
  security: z.enum(['tls', 'starttls']),
  /** What to type as the login (the address, for mail). */
  username: z.string(),
});

/** What to type into a phone or a desktop app for this account (services PIC knows how to set up). */
export const myServiceClientSchema = z.object({
  /** The account's address (`<username>@<domain>`), for a mailbox. */
  address: z.string().optional(),
  servers: z.array(clientServerSchema),
  /** Where the peer downloads an Apple configuration profile for it; null when there is none. */
  profile: z.string().nullable(),
});

export const myServiceAccountSchema = z.object({
  service: z.string(),
  name: z.string(),
  username: z.string(),
  password: z.string(),
  url: z.string().nullable(),
  /** Connection settings, for the services that have them (absent otherwise). */
  client: myServiceClientSchema.optional(),
});

export const myServiceAccountsSchema = z.object({ accounts: z.array(myServiceAccountSchema) });

export type AddAccountBody = z.infer<typeof addAccountBodySchema>;
export type ServiceAccountView = z.infer<typeof serviceAccountSchema>;
export type MyServiceAccount = z.infer<typeof myServiceAccountSchema>;
export type MyServiceClient = z.infer<typeof myServiceClientSchema>;
