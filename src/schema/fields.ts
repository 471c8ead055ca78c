// The field library: every user-supplied value that can reach a rendered file or a process argument
// is one of these. They reject newlines, quotes, braces and shell metacharacters by construction
// (allow-lists, never deny-lists), so a value that passes can be written into a config verbatim.
import { isIP } from 'node:net';
import { z } from 'zod';

/** RFC 1123 label, lowercase: a cell name, a peer name, a service id. */
export const dnsLabel = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'must be a lowercase DNS label: a-z, 0-9 and inner hyphens');

/** A fully qualified domain name, lowercase, no trailing dot. */
export const domainName = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/,
    'must be a lowercase domain name such as home.example.org',
  );

export const port = z.number().int().min(1).max(65535);

export const ipv4 = z.string().refine((v) => isIP(v) === 4, 'must be an IPv4 address');

export function parseIpv4(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

export function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** An IPv4 CIDR with the address aligned to the prefix (10.0.0.0/24, not 10.0.0.5/24). */
export const cidr4 = z
  .string()
  .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'must be an IPv4 CIDR such as 10.0.0.0/24')
  .refine((v) => {
    const [ip, bits] = v.split('/') as [string, string];
    const prefix = Number(bits);
    if (isIP(ip) !== 4 || prefix < 8 || prefix > 30) return false;
    const size = 2 ** (32 - prefix);
    return parseIpv4(ip) % size === 0;
  }, 'must be an aligned IPv4 network with a prefix between /8 and /30');

/** An interface address with prefix (10.0.0.1/24): the host part must not be the network or broadcast. */
export const ifaceAddress4 = z
  .string()
  .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'must be an IPv4 address with prefix such as 10.0.0.1/24')
  .refine((v) => {
    const [ip, bits] = v.split('/') as [string, string];
    const prefix = Number(bits);
    if (isIP(ip) !== 4 || prefix < 8 || prefix > 30) return false;
    const size = 2 ** (32 - prefix);
    const offset = parseIpv4(ip) % size;
    return offset !== 0 && offset !== size - 1;
  }, 'must be a host address inside its network with a prefix between /8 and /30');

const RFC1918: Array<[number, number]> = [
  [parseIpv4('10.0.0.0'), 8],
  [parseIpv4('172.16.0.0'), 12],
  [parseIpv4('192.168.0.0'), 16],
];

export function cidrRange(value: string): { first: number; last: number; prefix: number } {
  const [ip, bits] = value.split('/') as [string, string];
  const prefix = Number(bits);
  const size = 2 ** (32 - prefix);
  const first = parseIpv4(ip) - (parseIpv4(ip) % size);
  return { first, last: first + size - 1, prefix };
}

export function isRfc1918(value: string): boolean {
  const { first, last } = cidrRange(value);
  return RFC1918.some(([base, prefix]) => {
    const size = 2 ** (32 - prefix);
    return first >= base && last < base + size;
  });
}

export function cidrsOverlap(a: string, b: string): boolean {
  const ra = cidrRange(a);
  const rb = cidrRange(b);
  return ra.first <= rb.last && rb.first <= ra.last;
}

export const privateCidr4 = cidr4.refine(
  isRfc1918,
  'must be inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16',
);

const zones = new Set(Intl.supportedValuesOf('timeZone'));
zones.add('UTC');
// ICU lists some zones under their old names (Asia/Calcutta, Europe/Kiev); the current IANA names
// (Asia/Kolkata, Europe/Kyiv) are what a Debian host shows, so they are accepted as aliases. The
// pattern keeps out what Intl would also take: lower case spellings and raw offsets such as +01:00.
const ZONE_NAME = /^[A-Z][A-Za-z0-9_+-]*(\/[A-Z][A-Za-z0-9_+-]*){0,2}$/;
function knownZone(v: string): boolean {
  if (zones.has(v)) return true;
  if (!ZONE_NAME.test(v)) return false;
  try {
    const canonical = new Intl.DateTimeFormat('en', { timeZone: v }).resolvedOptions().timeZone;
    return canonical === v || zones.has(canonical);
  } catch {
    return false;
  }
}
export const timezone = z
  .string()
  .max(64)
  .refine(knownZone, 'must be an IANA time zone such as Europe/Berlin');
export const timezones = (): string[] => [...zones].sort();

/** Passwords are hashed, never rendered; the cap keeps a hostile 10 MiB value away from Argon2. */
export const newPassword = z
  .string()
  .min(12, 'must be at least 12 characters')
  .max(1024, 'must be at most 1024 characters');
export const anyPassword = z.string().min(1).max(1024, 'must be at most 1024 characters');

export const username = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/, 'must be lowercase letters, digits, dot, underscore or hyphen');

/** Free text shown in the UI only (never rendered into a config): printable, single line. */
export const displayText = z
  .string()
  .max(200)
  .regex(/^[^\p{Cc}\p{Cf}]*$/u, 'must be a single line of printable text');

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
export type LogLevel = z.infer<typeof logLevel>;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]']);

/**
 * An absolute http(s) URL the cell fetches (a DDNS API, an IP echo, a blocklist, an ACME directory):
 * one line, no whitespace or control characters, no credentials (`user:pass@`), no fragment.
 * `httpsExceptLoopback`: plain http only to 127.0.0.1 or [::1] (a local test server), for a URL whose
 * answer, fetched in the clear, could redirect the cell's trust (an ACME directory).
 */
export function webUrl(opts: { max?: number; httpsExceptLoopback?: boolean } = {}) {
  const kind = opts.httpsExceptLoopback ? 'https' : 'http(s)';
  return z
    .string()
    .max(opts.max ?? 512)
    .superRefine((v, ctx) => {
      const fail = (message: string) => void ctx.addIssue({ code: 'custom', message });
      if (/[\s\p{Cc}\p{Cf}]/u.test(v)) return fail('must be one line with no spaces');
      let u: URL;
      try {
        u = new URL(v);
      } catch {
        return fail(`must be an absolute ${kind} URL`);
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:')
        return fail(opts.httpsExceptLoopback ? 'must be an https URL' : 'must be an http or https URL');
      if (u.hostname === '') return fail(`must be an absolute ${kind} URL`);
      if (u.username !== '' || u.password !== '' || /^[a-z]+:\/\/[^/]*@/i.test(v))
        return fail('must not carry credentials (user:password@)');
      if (v.includes('#')) return fail('must not have a fragment');
      if (opts.httpsExceptLoopback && u.protocol === 'http:' && !LOOPBACK_HOSTS.has(u.hostname))
        fail('must be https (http only on 127.0.0.1 or [::1])');
    });
}

/** A numeric row id in a path (`/api/dns/records/:id`). */
export const rowIdParams = z
  .object({
    id: z.coerce
      .number()
      .int()
      .min(1)
      .max(2 ** 31),
  })
  .strict();
