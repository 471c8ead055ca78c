// TLS for the cell's names (ADR 0019): the ACME settings the owner PUTs, what GET answers (never the
// EAB HMAC key) and the certificate status. Used only in the pic_ngo and custom domain modes; in
// local mode the cell's own CA signs (ADR 0016) and nothing is contacted.
import { z } from 'zod';
import { webUrl } from './fields.ts';

export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

export const ACME_CHALLENGES = ['auto', 'dns-01', 'http-01'] as const;
/** auto: DNS-01 (with the wildcard) when the DDNS provider can publish TXT, else HTTP-01 (bare domain). */
export const acmeChallengeChoice = z.enum(ACME_CHALLENGES);
export type AcmeChallengeChoice = z.infer<typeof acmeChallengeChoice>;

/**
 * An ACME directory: https, no credentials, fragment, whitespace or control characters. Plain http
 * only on a loopback address (a local test CA): a directory fetched in the clear could hand the
 * client another CA's URLs.
 */
export const acmeDirectoryUrl = webUrl({ httpsExceptLoopback: true });

/** A contact address for the CA's expiry notices: a plain addr-spec, one line. */
export const acmeEmail = z
  .string()
  .max(254)
  .regex(
    /^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$/,
    'must be an email address such as owner@example.org',
  );

export const eabKid = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9_.-]+$/, 'must be letters, digits, "_", "-" or "."');

/**
 * Roots trusted for the ACME directory's own HTTPS besides the system's: a private ACME CA (step-ca,
 * a company's) whose listener a public root does not sign. Also where the root its certificates chain
 * to is found (the `ca.pem` store services trust, src/core/tls/chain-root.ts): give the CA's issuing
 * root too when it is not the listener's. One to eight PEM certificates, nothing else (no key, no
 * text around them); at most 64 KiB.
 */
export const directoryCa = z
  .string()
  .max(64 * 1024)
  .regex(
    /^(-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=]{1,76}\r?\n){1,200}-----END CERTIFICATE-----(\r?\n)*){1,8}$/,
    'must be one or more PEM certificates (-----BEGIN CERTIFICATE-----)',
  );

/** The EAB HMAC key as the CA shows it: base64url (padding allowed). */
export const eabHmac = z
  .string()
  .min(16, 'must be at least 16 characters')
  .max(512)
  .regex(/^[A-Za-z0-9_-]+={0,2}$/, 'must be base64url');

export const tlsSettingsBody = z
  .object({
    directory_url: acmeDirectoryUrl.optional(),
    /** A private ACME CA's roots (its HTTPS, and the root it issues under); null removes them. */
    directory_ca: directoryCa.nullable().optional(),
    /** null: no contact address. */
    email: acmeEmail.nullable().optional(),
    /** External account binding: both or neither; null removes it. */
    eab_kid: eabKid.nullable().optional(),
    eab_hmac: eabHmac.optional(),
    challenge: acmeChallengeChoice.optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.eab_hmac !== undefined && (b.eab_kid === undefined || b.eab_kid === null))
      ctx.addIssue({ code: 'custom', path: ['eab_kid'], message: 'is required with eab_hmac' });
  });
export type TlsSettingsBody = z.infer<typeof tlsSettingsBody>;

export const tlsSettingsView = z.object({
  directory_url: z.string(),
  /** True when directory_url is Let's Encrypt's production directory (the default). */
  lets_encrypt: z.boolean(),
  /** The extra roots trusted for the directory's HTTPS (PEM, not a secret); null: the system's only. */
  directory_ca: z.string().nullable(),
  email: z.string().nullable(),
  eab_kid: z.string().nullable(),
  /** The HMAC key itself is never returned. */
  eab_hmac_set: z.boolean(),
  challenge: acmeChallengeChoice,
  /** What auto resolves to now: dns-01 when the DDNS provider can publish TXT. */
  effective_challenge: z.enum(['dns-01', 'http-01']),
  /** The DDNS provider that would publish the DNS-01 TXT record; null: none configured. */
  dns_provider: z.string().nullable(),
  dns_provider_supports_txt: z.boolean(),
});
export type TlsSettingsView = z.infer<typeof tlsSettingsView>;

export const tlsStatus = z.object({
  /** The mode being served (applied), not a pending one. */
  mode: z.enum(['local', 'pic_ngo', 'custom']),
  domain: z.string(),
  /** local: made by the cell (its CA; self-signed in a fallback); acme: from the ACME directory. */
  source: z.enum(['local', 'acme']),
  /** In an ACME mode with no certificate yet: a self-signed certificate serves meanwhile (ADR 0016). */
  fallback: z.boolean(),
  names: z.array(z.string()),
  /** Subject of the issuer certificate. */
  issuer: z.string().nullable(),
  not_after: z.string().nullable(),
  last_renewal: z.string().nullable(),
  last_error: z.string().nullable(),
  next_attempt: z.string().nullable(),
  /** An order is running (a renewal, a renew-now or an apply). */
  in_progress: z.boolean(),
  /** Its current step, while in_progress. */
  progress: z.string().nullable(),
});
export type TlsStatus = z.infer<typeof tlsStatus>;

/** An ACME HTTP-01 token: base64url, as RFC 8555 §8.3 defines it (no dots, no slashes). */
export const acmeToken = z.string().regex(/^[A-Za-z0-9_-]{16,128}$/, 'must be an ACME token');
