// The cell's DNS: custom records the owner adds to the cell's zone (GET/POST/DELETE /api/dns/records)
// and the upstream settings. Every value that reaches Unbound's config or an unbound-control line is
// parsed here by an allow-list: no quote, backslash, newline, brace or control character can pass, so a
// record that parses can be written verbatim inside `local-data: '...'`.
import { isIP } from 'node:net';
import { z } from 'zod';
import { domainName, rowIdParams } from './fields.ts';

export const DNS_RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'TXT', 'MX', 'SRV'] as const;
export const dnsRecordType = z.enum(DNS_RECORD_TYPES);
export type DnsRecordType = z.infer<typeof dnsRecordType>;

/** One label of an owner name: letters, digits, inner hyphens; a leading underscore for _dmarc, _sip._tcp. */
const LABEL = '_?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?';
const RELATIVE = new RegExp(`^${LABEL}(\\.${LABEL})*$`);

/**
 * An owner name as the owner types it: `@` (the zone itself), a name relative to the zone (`www`,
 * `_sip._tcp`), or an absolute name ending in a dot (`www.home.example.`), which must lie inside the
 * zone (checked by the DNS use-case, which knows the zone). Upper case is folded; `..`, `*` and every
 * character outside the labels are refused.
 */
export const dnsRecordName = z
  .string()
  .max(253)
  .transform((v) => v.toLowerCase())
  .refine(
    (v) => v === '@' || RELATIVE.test(v.endsWith('.') ? v.slice(0, -1) : v),
    'must be @, a name relative to the zone such as www or _sip._tcp, or an absolute name ending in a dot',
  );

export const dnsTtl = z.number().int().min(0).max(604_800);
export const DEFAULT_DNS_TTL = 3600;

/** A target name (CNAME, MX, SRV): fully qualified, a trailing dot allowed and dropped. */
const target = z
  .string()
  .max(254)
  .transform((v) => v.toLowerCase().replace(/\.$/, ''))
  .pipe(domainName);

const u16 = (what: string) =>
  z
    .string()
    .regex(/^\d{1,5}$/, `${what} must be a number from 0 to 65535`)
    .refine((v) => Number(v) <= 65535, `${what} must be a number from 0 to 65535`)
    .transform((v) => String(Number(v)));

/** Printable ASCII without the characters that quote or escape in Unbound's config or zone syntax. */
const TXT_CHARS = /^[\x20-\x21\x23-\x26\x28-\x5b\x5d-\x7e]*$/;
export const TXT_MAX = 2048;

/** Each type's value, normalized (lower-case names, canonical numbers) once it parses. */
export const DNS_VALUE: Record<DnsRecordType, z.ZodType<string, string>> = {
  A: z.string().refine((v) => isIP(v) === 4, 'must be an IPv4 address such as 192.0.2.10'),
  AAAA: z
    .string()
    .max(45)
    .transform((v) => v.toLowerCase())
    .refine((v) => isIP(v) === 6 && !v.includes('%'), 'must be an IPv6 address such as 2001:db8::10'),
  CNAME: target,
  TXT: z
    .string()
    .min(1, 'must not be empty')
    .max(TXT_MAX, `must be at most ${TXT_MAX} characters (it is split into 255-byte strings)`)
    .regex(
      TXT_CHARS,
      'must be printable ASCII without quotes (" or \') or backslashes; the cell adds the quoting',
    ),
  MX: z
    .string()
    .max(260)
    .transform((v, ctx) => {
      const m = /^(\S+) (\S+)$/.exec(v.trim());
      const pref = m && u16('the preference').safeParse(m[1]);
      const host = m && target.safeParse(m[2]);
      if (!pref?.success || !host?.success) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be "<preference> <mail host>", e.g. "10 mail.example.org"',
        });
        return z.NEVER;
      }
      return `${pref.data} ${host.data}`;
    }),
  SRV: z
    .string()
    .max(280)
    .transform((v, ctx) => {
      const m = /^(\S+) (\S+) (\S+) (\S+)$/.exec(v.trim());
      const nums = m ? [m[1], m[2], m[3]].map((n) => u16('priority, weight and port').safeParse(n)) : [];
      // "." as the target: the service is decidedly not available at this name (RFC 2782).
      const host = m && (m[4] === '.' ? { success: true as const, data: '.' } : target.safeParse(m[4]));
      if (!m || !host?.success || nums.some((n) => !n.success)) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be "<priority> <weight> <port> <target>", e.g. "10 5 5060 sip.example.org"',
        });
        return z.NEVER;
      }
      return [...nums.map((n) => n.data), host.data].join(' ');
    }),
};

/** POST /api/dns/records: the value is checked (and normalized) for its type, errors on `value`. */
export const createDnsRecordSchema = z
  .object({
    name: dnsRecordName,
    type: dnsRecordType,
    value: z.string().max(4096),
    ttl: dnsTtl.optional(),
  })
  .strict()
  .transform((r, ctx) => {
    const v = DNS_VALUE[r.type].safeParse(r.value);
    if (!v.success) {
      for (const issue of v.error.issues)
        ctx.addIssue({ code: 'custom', path: ['value'], message: issue.message });
      return z.NEVER;
    }
    return { name: r.name, type: r.type, value: v.data, ttl: r.ttl ?? DEFAULT_DNS_TTL };
  });
export type CreateDnsRecordInput = z.input<typeof createDnsRecordSchema>;
export type NewDnsRecord = z.output<typeof createDnsRecordSchema>;

export const dnsRecordView = z.object({
  id: z.number().int(),
  /** Relative to the zone: `@` or `www`. */
  name: z.string(),
  type: dnsRecordType,
  value: z.string(),
  ttl: z.number().int(),
});
export type DnsRecordView = z.infer<typeof dnsRecordView>;

export const dnsRecordIdParams = rowIdParams;

/** A DNS-over-TLS upstream: its address, port (853) and the name its certificate must carry. */
export const dnsTlsForwarder = z
  .object({
    address: z.string().refine((v) => isIP(v) === 4, 'must be an IPv4 address'),
    port: z.number().int().min(1).max(65535).optional(),
    tls_name: domainName,
  })
  .strict();
export type DnsTlsForwarder = z.infer<typeof dnsTlsForwarder>;
