// The API of a store service's manifest hooks (issue 13, docs/store/service-manifest.md): its typed
// settings (GET/PUT /api/services/<id>/settings), its status (GET …/status) and the DNS records it
// needs (GET …/dns-records); and the pure checks of what reaches the service or the zone: each
// setting's value by its field type, and each record the `dns_records` hook prints.
import { isIP } from 'node:net';
import { z } from 'zod';
import { DEFAULT_DNS_TTL, DNS_VALUE, dnsRecordName, dnsTtl } from './dns.ts';
import { domainName } from './fields.ts';
import type { ServiceSettingField } from './service-manifest.ts';

/** One alias: a local part of the cell's domain delivered to an account of the service. */
export interface MailAlias {
  alias: string;
  to: string;
}

export type SettingValue = string | number | boolean | MailAlias[];

/** A problem with one value, named `values.<key>` (core turns these into a 400). */
export interface FieldError {
  field: string;
  message: string;
}

/** An alias's local part: lowercase, dots, hyphens and underscores inside, at most 64 characters. */
export const ALIAS_LOCAL_PART = /^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$/;
export const MAX_ALIASES = 256;
/** A secret's longest value (a smarthost password, a token). */
export const SECRET_MAX = 1024;
const TEXT_MAX_DEFAULT = 512;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
const CONTROL = /[\u0000-\u001f\u007f\u0080-\u009f\u2028\u2029]/;

const aliasSchema = z.object({ alias: z.string(), to: z.string() }).strict();

export const settingsBodySchema = z
  .object({
    values: z
      .record(z.string().max(64), z.unknown())
      .refine((v) => Object.keys(v).length <= 64, 'must have at most 64 keys'),
  })
  .strict();
export type SettingsBody = z.infer<typeof settingsBodySchema>;

const settingValueSchema = z.union([z.string(), z.number(), z.boolean(), z.array(aliasSchema)]).nullable();

export const settingsViewSchema = z.object({
  /** The manifest's fields, as declared (key, type, label, help, bounds, default). */
  fields: z.array(z.record(z.string(), z.unknown())),
  /** Each non-secret field's value (its default when unset, else null). */
  values: z.record(z.string(), settingValueSchema),
  /** Each secret field: whether it holds a value (never the value). */
  secrets_set: z.record(z.string(), z.boolean()),
  applied: z.boolean(),
  apply_error: z.string().nullable(),
});
export type SettingsView = z.infer<typeof settingsViewSchema>;

export const serviceStatusSchema = z.object({
  status: z.record(z.string(), z.unknown()).nullable(),
  error: z.string().nullable(),
});

export const PUBLIC_STATES = ['match', 'differs', 'missing', 'unchecked'] as const;
export type PublicState = (typeof PUBLIC_STATES)[number];

export const SERVICE_RECORD_TYPES = ['MX', 'TXT', 'SRV'] as const;

export const serviceDnsRecordsSchema = z.object({
  records: z.array(
    z.object({
      /** Relative to the zone: `@`, `_dmarc`, `pic._domainkey`. */
      name: z.string(),
      /** The absolute name, with its trailing dot. */
      fqdn: z.string(),
      type: z.enum(SERVICE_RECORD_TYPES),
      value: z.string(),
      /** Served by the cell's DNS now. */
      in_zone: z.boolean(),
      /** What the cell's forwarders answer for it in a public domain mode; `unchecked` in local mode. */
      public: z.enum(PUBLIC_STATES),
    }),
  ),
});

/** The most records one service may put into the zone. */
export const MAX_SERVICE_RECORDS = 32;

export interface CheckedRecord {
  name: string;
  type: (typeof SERVICE_RECORD_TYPES)[number];
  value: string;
  ttl: number;
}

const hookRecord = z
  .object({
    name: dnsRecordName,
    type: z.enum(SERVICE_RECORD_TYPES, { error: 'must be MX, TXT or SRV' }),
    value: z.string().max(4096),
    ttl: dnsTtl.optional(),
  })
  .strict();

/**
 * The `dns_records` hook's output checked whole: a JSON array of at most 32 records, each by the DNS
 * records API's rules (schema/dns.ts) and named `@`, with a `_` label (`_dmarc`, `pic._domainkey`,
 * `_submission._tcp`), or one of the service's own names. One bad record refuses them all, naming it.
 */
export function checkServiceRecords(
  stdout: string,
  ownNames: readonly string[],
): { ok: true; records: CheckedRecord[] } | { ok: false; problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    return { ok: false, problem: 'the output is not JSON' };
  }
  if (!Array.isArray(parsed)) return { ok: false, problem: 'the output is not a JSON array' };
  if (parsed.length > MAX_SERVICE_RECORDS)
    return { ok: false, problem: `${parsed.length} records: at most ${MAX_SERVICE_RECORDS}` };
  const records: CheckedRecord[] = [];
  const seen = new Set<string>();
  for (const [i, item] of parsed.entries()) {
    const r = hookRecord.safeParse(item);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      const at = issue.path.length ? `.${issue.path.join('.')}` : '';
      return { ok: false, problem: `record ${i}${at}: ${issue.message}` };
    }
    const name = r.data.name;
    if (name.endsWith('.'))
      return { ok: false, problem: `record ${i}.name: must be relative to the zone (no trailing dot)` };
    const allowed = name === '@' || name.split('.').some((l) => l.startsWith('_')) || ownNames.includes(name);
    if (!allowed)
      return {
        ok: false,
        problem: `record ${i}.name: ${name} is not @, a name with a _ label (_dmarc, pic._domainkey) or one of the service's own names`,
      };
    const v = DNS_VALUE[r.data.type].safeParse(r.data.value);
    if (!v.success) return { ok: false, problem: `record ${i}.value: ${v.error.issues[0]!.message}` };
    const key = `${name} ${r.data.type} ${v.data}`;
    if (seen.has(key)) continue;
    seen.add(key);
    records.push({ name, type: r.data.type, value: v.data, ttl: r.data.ttl ?? DEFAULT_DNS_TTL });
  }
  return { ok: true, records };
}

/** What a PUT changes: non-secret values (null: unset) and secrets (null: cleared). */
export interface SettingsChange {
  values: Record<string, SettingValue | null>;
  secrets: Record<string, string | null>;
}

const bad = (key: string, message: string): FieldError => ({ field: `values.${key}`, message });

/**
 * Checks a PUT's values against the manifest's fields: unknown keys, wrong types, newlines and
 * control characters, bounds, hosts that are neither a DNS name nor an IP, aliases (local part,
 * duplicates, a target that is not a current account of the service). Every problem is named
 * `values.<key>`; a secret's value never appears in a message.
 */
export function checkSettings(
  fields: readonly ServiceSettingField[],
  input: Record<string, unknown>,
  accounts: readonly string[],
): { ok: true; change: SettingsChange } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const change: SettingsChange = { values: {}, secrets: {} };
  const byKey = new Map(fields.map((f) => [f.key, f]));
  for (const [key, raw] of Object.entries(input)) {
    const f = byKey.get(key);
    if (!f) {
      errors.push(bad(key.slice(0, 64).replace(CONTROL, '?'), 'is not a setting of this service'));
      continue;
    }
    if (raw === null) {
      if (f.type === 'secret') change.secrets[key] = null;
      else change.values[key] = null;
      continue;
    }
    const r = checkValue(f, raw, accounts);
    if (typeof r === 'object' && r !== null && 'error' in r) errors.push(bad(key, r.error));
    else if (f.type === 'secret') change.secrets[key] = r as string;
    else change.values[key] = r as SettingValue | null;
  }
  return errors.length ? { ok: false, errors } : { ok: true, change };
}

function oneLine(v: unknown, max: number): string | { error: string } {
  if (typeof v !== 'string') return { error: 'must be a string' };
  if (CONTROL.test(v)) return { error: 'must be one line without control characters (newline, tab, NUL)' };
  if (v.length > max) return { error: `must be at most ${max} characters` };
  return v;
}

function checkValue(
  f: ServiceSettingField,
  v: unknown,
  accounts: readonly string[],
): SettingValue | null | { error: string } {
  switch (f.type) {
    case 'text': {
      const s = oneLine(v, f.max ?? TEXT_MAX_DEFAULT);
      return typeof s === 'string' && s === '' ? null : s;
    }
    case 'secret': {
      const s = oneLine(v, SECRET_MAX);
      if (typeof s === 'string' && s === '') return { error: 'must not be empty (null clears it)' };
      return s;
    }
    case 'host': {
      const s = oneLine(v, 253);
      if (typeof s !== 'string') return s;
      if (s === '') return null;
      const host = s.toLowerCase().replace(/\.$/, '');
      if (isIP(s) || domainName.safeParse(host).success) return isIP(s) ? s : host;
      return { error: 'must be a DNS name such as smtp.example.org or an IP address' };
    }
    case 'port':
      return Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535
        ? (v as number)
        : { error: 'must be a port number from 1 to 65535' };
    case 'integer':
      if (!Number.isInteger(v)) return { error: 'must be an integer' };
      return (v as number) < f.min || (v as number) > f.max
        ? { error: `must be from ${f.min} to ${f.max}` }
        : (v as number);
    case 'boolean':
      return typeof v === 'boolean' ? v : { error: 'must be true or false' };
    case 'aliases':
      return checkAliases(v, accounts);
  }
}

function checkAliases(v: unknown, accounts: readonly string[]): MailAlias[] | { error: string } {
  if (!Array.isArray(v)) return { error: 'must be a list of {"alias", "to"}' };
  if (v.length > MAX_ALIASES) return { error: `must have at most ${MAX_ALIASES} aliases` };
  const out: MailAlias[] = [];
  const seen = new Set<string>();
  for (const [i, item] of v.entries()) {
    const a = aliasSchema.safeParse(item);
    if (!a.success) return { error: `item ${i} must be {"alias": string, "to": string}` };
    if (!ALIAS_LOCAL_PART.test(a.data.alias))
      return {
        error: `item ${i}: the alias must be a local part of lowercase letters, digits, dots, hyphens and underscores (at most 64, a letter or digit at each end)`,
      };
    if (!accounts.includes(a.data.to))
      return {
        error: `item ${i}: ${JSON.stringify(a.data.to.slice(0, 64))} is not an account of this service`,
      };
    if (accounts.includes(a.data.alias))
      return { error: `item ${i}: ${a.data.alias} is an account's own address` };
    if (seen.has(a.data.alias)) return { error: `item ${i}: ${a.data.alias} is listed twice` };
    seen.add(a.data.alias);
    out.push({ alias: a.data.alias, to: a.data.to });
  }
  return out;
}
