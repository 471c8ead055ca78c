// A store service's manifest hooks as the API answers them (GET/PUT /api/services/<id>/settings,
// GET …/status, GET …/dns-records; src/schema/service-hooks.ts): typed here by hand, called through
// callJson, until the generated schema carries these routes.
import { callJson } from './client';

interface FieldBase {
  key: string;
  label: string;
  help?: string;
}

export type SettingField =
  | (FieldBase & { type: 'text'; max?: number })
  | (FieldBase & { type: 'host' })
  | (FieldBase & { type: 'port'; default?: number })
  | (FieldBase & { type: 'secret' })
  | (FieldBase & { type: 'integer'; min: number; max: number; default?: number })
  | (FieldBase & { type: 'boolean'; default?: boolean })
  | (FieldBase & { type: 'aliases' });

export interface MailAlias {
  alias: string;
  to: string;
}

export type SettingValue = string | number | boolean | MailAlias[] | null;

export interface SettingsView {
  fields: SettingField[];
  values: Record<string, SettingValue>;
  secrets_set: Record<string, boolean>;
  applied: boolean;
  apply_error: string | null;
}

export interface ServiceStatus {
  status: Record<string, unknown> | null;
  error: string | null;
}

export interface ServiceDnsRecord {
  name: string;
  fqdn: string;
  type: string;
  value: string;
  in_zone: boolean;
  public: 'match' | 'differs' | 'missing' | 'unchecked';
}

const base = (id: string) => `/api/services/${encodeURIComponent(id)}`;

export const serviceHooks = {
  settings: (id: string) => callJson<SettingsView>('GET', `${base(id)}/settings`),
  putSettings: (id: string, values: Record<string, SettingValue>) =>
    callJson<SettingsView>('PUT', `${base(id)}/settings`, { values }),
  status: (id: string) => callJson<ServiceStatus>('GET', `${base(id)}/status`),
  dnsRecords: (id: string) => callJson<{ records: ServiceDnsRecord[] }>('GET', `${base(id)}/dns-records`),
};
