// What the runtime of a store service's manifest hooks needs from the outside (issue 13): where its
// settings, DNS records and certificate state are kept, how files reach a volume of the service, and
// how a public resolver is asked about a record. The hooks themselves run through HookRunner.
import type { SettingValue } from '../../schema/service-hooks.ts';

export interface ServiceSettingsRow {
  /** Non-secret values by key (absent: unset). */
  values: Record<string, SettingValue>;
  /** Secret values by key, in clear here: the driver seals them at rest. */
  secrets: Record<string, string>;
  /** Whether the last `apply` succeeded (false until one ran). */
  applied: boolean;
  applyError: string | null;
  updatedAt: string;
}

export interface ServiceSettingsRepository {
  get(serviceId: string): ServiceSettingsRow | undefined;
  put(serviceId: string, row: ServiceSettingsRow): void;
}

export type ServiceRecordType = 'MX' | 'TXT' | 'SRV';

/** A record a service's `dns_records` hook listed, checked, relative to the zone. */
export interface ServiceDnsRecordRow {
  serviceId: string;
  name: string;
  type: ServiceRecordType;
  value: string;
  ttl: number;
}

export interface ServiceDnsRecordsRepository {
  list(): ServiceDnsRecordRow[];
  ofService(serviceId: string): ServiceDnsRecordRow[];
  /** The service's records become exactly these (one transaction). */
  replace(serviceId: string, rows: readonly Omit<ServiceDnsRecordRow, 'serviceId'>[]): void;
  remove(serviceId: string): void;
}

/** What was last written into a service's TLS volume. */
export interface ServiceTlsState {
  serviceId: string;
  domain: string;
  names: string[];
  /** `local`: a leaf of the cell's CA; `acme`: the cell's ACME certificate; `none`: ca.pem only. */
  source: 'local' | 'acme' | 'none';
  /** The certificate's end (ISO); null with `none`. */
  notAfter: string | null;
  writtenAt: string;
}

export interface ServiceTlsRepository {
  get(serviceId: string): ServiceTlsState | undefined;
  put(state: ServiceTlsState): void;
  remove(serviceId: string): void;
}

export interface ServiceFile {
  /** A plain file name (ca.pem, fullchain.pem, privkey.pem): written at the volume's top level. */
  name: string;
  content: string;
  mode: number;
}

/** Writes files into `data/services/<id>/<volume>/`, each atomically, owned by uid:gid. */
export interface ServiceFilesPort {
  write(
    serviceId: string,
    volume: string,
    files: readonly ServiceFile[],
    owner: { uid: number; gid: number },
  ): Promise<void>;
}

/** Asks the given resolvers (and no other) for a name's records of one type. */
export interface PublicDnsPort {
  /** The answers, each as the zone would write its value; [] when the name has none of that type. */
  lookup(servers: readonly string[], fqdn: string, type: ServiceRecordType): Promise<string[]>;
}
