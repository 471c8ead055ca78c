import { z } from 'zod';
import { defaultDomain, domainMode } from './config.ts';
import { dnsLabel, domainName, newPassword, timezone } from './fields.ts';

/** Store services a new owner may ask for in the wizard; installed once the store is available. */
export const STORE_SERVICE_IDS = [
  'email',
  'calendar',
  'files',
  'webmail',
  'wireguard-ext',
  'openvpn-client',
  'tor',
  'sshuttle',
  'proxy',
] as const;

export const setupInputSchema = z
  .object({
    token: z.string().min(1).max(64),
    cell_name: dnsLabel,
    domain_mode: domainMode,
    domain: domainName.optional(),
    timezone,
    admin_password: newPassword,
    services: z.array(z.enum(STORE_SERVICE_IDS)).max(STORE_SERVICE_IDS.length).default([]),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.domain_mode === 'custom' && !v.domain) {
      ctx.addIssue({ code: 'custom', path: ['domain'], message: 'is required when domain_mode is custom' });
    }
    const derived = defaultDomain(v.domain_mode, v.cell_name);
    if (v.domain !== undefined && derived !== undefined && v.domain !== derived) {
      ctx.addIssue({
        code: 'custom',
        path: ['domain'],
        message: 'may only be set when domain_mode is custom',
      });
    }
    if (new Set(v.services).size !== v.services.length) {
      ctx.addIssue({ code: 'custom', path: ['services'], message: 'must not list a service twice' });
    }
  });

export type SetupInput = z.infer<typeof setupInputSchema>;
