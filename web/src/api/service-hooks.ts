// A store service's manifest hooks as the API answers them (GET/PUT /api/services/<id>/settings,
// GET …/status, GET …/dns-records; src/schema/service-hooks.ts), through the typed client. The
// settings' fields are typed by the manifest's field types here: the API's schema carries them as
// the manifest declares them (objects of any shape), which the form narrows by `type`.
import { api, call } from './client';

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

const path = (id: string) => ({ params: { path: { id } } });

export const serviceHooks = {
  settings: async (id: string) =>
    (await call(api.GET('/api/services/{id}/settings', path(id)))) as unknown as SettingsView,
  putSettings: async (id: string, values: Record<string, SettingValue>) =>
    (await call(
      api.PUT('/api/services/{id}/settings', { ...path(id), body: { values } }),
    )) as unknown as SettingsView,
  status: (id: string): Promise<ServiceStatus> => call(api.GET('/api/services/{id}/status', path(id))),
  dnsRecords: (id: string): Promise<{ records: ServiceDnsRecord[] }> =>
    call(api.GET('/api/services/{id}/dns-records', path(id))),
};
