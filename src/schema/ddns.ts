// Dynamic DNS: the settings the owner PUTs, what GET answers (never the token) and what a publish
// returns. Every URL is http(s) with no credentials; every value is one line.
import { z } from 'zod';
import { domainName, webUrl } from './fields.ts';

export const DDNS_PROVIDERS = ['pic_ngo', 'cloudflare', 'duckdns', 'noip', 'freedns'] as const;
export const ddnsProvider = z.enum(DDNS_PROVIDERS);
export type DdnsProvider = z.infer<typeof ddnsProvider>;

/** Where each provider answers by default; `api_url` overrides it (a proxy, a test fake). */
export const DDNS_DEFAULT_URLS: Record<DdnsProvider, string> = {
  pic_ngo: 'https://ddns.pic.ngo',
  cloudflare: 'https://api.cloudflare.com/client/v4',
  duckdns: 'https://www.duckdns.org',
  noip: 'https://dynupdate.no-ip.com',
  freedns: 'https://freedns.afraid.org',
};

/** Providers that can publish a TXT record (ACME DNS-01); noip (dyndns2) and freedns cannot. */
export const DDNS_TXT_PROVIDERS: readonly DdnsProvider[] = ['pic_ngo', 'cloudflare', 'duckdns'];

/** An http(s) URL without credentials, fragment, whitespace or control characters. */
export const httpUrl = webUrl();

/** A provider token or key: printable ASCII, one line, no spaces. */
export const ddnsToken = z
  .string()
  .min(1, 'must not be empty')
  .max(512)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII with no spaces or newlines');

export const ddnsSettingsBody = z
  .object({
    provider: ddnsProvider,
    hostname: domainName,
    /** Left out: keep the stored token (same provider only). */
    token: ddnsToken.optional(),
    /** Cloudflare only: the zone's id (32 hex digits, from the zone's overview page). */
    zone_id: z
      .string()
      .regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex digits')
      .optional(),
    api_url: httpUrl.optional(),
    /** Where the public address is read from, in order; none = nothing is published. */
    ip_echo_urls: z.array(httpUrl).max(4).optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.provider === 'cloudflare' && !b.zone_id)
      ctx.addIssue({ code: 'custom', path: ['zone_id'], message: 'is required for cloudflare' });
    if (b.provider !== 'cloudflare' && b.zone_id)
      ctx.addIssue({ code: 'custom', path: ['zone_id'], message: 'is for cloudflare only' });
    if (b.provider === 'duckdns' && !/^[a-z0-9-]+\.duckdns\.org$/.test(b.hostname))
      ctx.addIssue({ code: 'custom', path: ['hostname'], message: 'must be <name>.duckdns.org' });
    if (b.provider === 'noip' && b.token !== undefined && !/^[^:]+:.+$/.test(b.token))
      ctx.addIssue({ code: 'custom', path: ['token'], message: 'must be username:password for noip' });
  });
export type DdnsSettingsBody = z.infer<typeof ddnsSettingsBody>;

export const ddnsView = z.object({
  configured: z.boolean(),
  provider: ddnsProvider.nullable(),
  hostname: z.string().nullable(),
  zone_id: z.string().nullable(),
  /** The URL in use: the owner's api_url, else the provider's default. */
  api_url: z.string().nullable(),
  /** The owner's own api_url; null: the provider's default is used. */
  custom_api_url: z.string().nullable(),
  ip_echo_urls: z.array(z.string()),
  token_set: z.boolean(),
  supports_txt: z.boolean(),
  last_ip: z.string().nullable(),
  last_update: z.string().nullable(),
  last_error: z.string().nullable(),
  /** When the scheduler tries next; null when it will not (not configured, no echo URL, stopped). */
  next_attempt: z.string().nullable(),
  /** The provider refused the credentials or the host (badauth, nohost, ...): stopped until the settings change. */
  stopped: z.boolean(),
});
export type DdnsView = z.infer<typeof ddnsView>;

export const ddnsOutcome = z.object({
  /** updated: sent and accepted; unchanged: the provider already had it; retry: will back off; stopped: fix the settings. */
  outcome: z.enum(['updated', 'unchanged', 'retry', 'stopped']),
  ip: z.string().nullable(),
  message: z.string(),
  next_attempt: z.string().nullable(),
});
export type DdnsOutcome = z.infer<typeof ddnsOutcome>;
