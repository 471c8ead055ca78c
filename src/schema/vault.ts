// The certificate authority's fields and views. A name reaches a certificate's subject and SAN and,
// through the cell's own certificate, Caddy's files: allow-lists only (lowercase DNS names, one
// leading wildcard label, plain IP addresses), so a value that passes can be written anywhere verbatim.
import { isIP } from 'node:net';
import { z } from 'zod';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Why a DNS name is not acceptable in a certificate, or undefined when it is. */
export function dnsNameProblem(v: string): string | undefined {
  if (v.length === 0 || v.length > 253) return 'must be 1 to 253 characters';
  const labels = v.split('.');
  const wildcard = labels[0] === '*';
  // A wildcard covers one label under a name of at least two labels: `*.home.cell`, never `*.cell`.
  if (wildcard && labels.length < 3) return 'a wildcard must stand above at least two labels (*.home.cell)';
  const rest = wildcard ? labels.slice(1) : labels;
  if (!rest.every((l) => LABEL.test(l)))
    return 'must be a lowercase DNS name: labels of a-z, 0-9 and inner hyphens; `*.` only as the whole first label';
  // An all-numeric last label reads as an IPv4 address to clients.
  if (/^[0-9]+$/.test(rest[rest.length - 1] ?? '')) return 'the last label must not be all digits';
  return undefined;
}

/** A plain IPv4 or IPv6 address (no zone id, no prefix, no brackets). */
export function isPlainIp(v: string): boolean {
  return /^[0-9a-f:.]+$/i.test(v) && isIP(v) !== 0;
}

/** A DNS name (wildcard allowed) or an IP address: one subjectAltName entry. */
export const certName = z
  .string()
  .max(253, 'must be at most 253 characters')
  .superRefine((v, ctx) => {
    if (isPlainIp(v)) return;
    const problem = dnsNameProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: `${problem}, or an IP address` });
  });

export const CERT_DAYS_MAX = 825;
export const CERT_DAYS_DEFAULT = 365;

export const issueCertSchema = z
  .object({
    /** The subject's CN; also the first subjectAltName (clients read only the SANs). */
    common_name: certName,
    sans: z.array(certName).max(100).default([]),
    /** 825 days is what Apple's platforms accept from a CA a user installed. */
    days: z.number().int().min(1).max(CERT_DAYS_MAX).default(CERT_DAYS_DEFAULT),
    /** Also usable as a TLS client certificate (EKU clientAuth). */
    client_auth: z.boolean().default(false),
  })
  .strict();
export type IssueCertInput = z.infer<typeof issueCertSchema>;

/** RFC 5280 CRLReason values a user may give (certificateHold and removeFromCRL are not offered). */
export const REVOKE_REASONS = [
  'unspecified',
  'keyCompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
] as const;
export const revokeReason = z.enum(REVOKE_REASONS);
export type RevokeReason = z.infer<typeof revokeReason>;

export const revokeCertSchema = z.object({ reason: revokeReason.default('unspecified') }).strict();

/** A certificate's id (a number) or its serial (hex), as listed. */
export const certIdParams = z
  .object({
    id: z
      .string()
      .max(64)
      .regex(/^[A-Za-z0-9]+$/, 'must be a certificate id or serial')
      .transform((v) => v.toLowerCase()),
  })
  .strict();

/** 'issued': through the API (its key was shown once); 'server': the cell's own HTTPS certificate. */
export const certPurpose = z.enum(['issued', 'server']);
export type CertPurpose = z.infer<typeof certPurpose>;

/** A certificate as stored (never a private key). */
export interface CertificateRecord {
  id: number;
  serial: string;
  commonName: string;
  sans: string[];
  purpose: CertPurpose;
  certificatePem: string;
  notBefore: string;
  notAfter: string;
  createdAt: string;
  revokedAt: string | null;
  reason: RevokeReason | null;
}

export const certView = z.object({
  id: z.number(),
  serial: z.string(),
  common_name: z.string(),
  sans: z.array(z.string()),
  purpose: certPurpose,
  not_before: z.string(),
  not_after: z.string(),
  created_at: z.string(),
  revoked_at: z.string().nullable(),
  reason: revokeReason.nullable(),
  status: z.enum(['valid', 'expired', 'revoked']),
});
export type CertView = z.infer<typeof certView>;

export const issuedCertView = z.object({
  id: z.number(),
  serial: z.string(),
  /** The leaf, PEM. */
  certificate: z.string(),
  /** The intermediate then the root, PEM: what a server sends after its certificate. */
  chain: z.string(),
  /** PKCS#8 PEM; in this answer only: the cell does not keep it. */
  private_key: z.string(),
});
export type IssuedCertView = z.infer<typeof issuedCertView>;
