// What the store does around a service's start besides its containers (issue 13): its certificate
// files before its containers first start; its settings applied and its DNS records collected after
// each start; its records and certificate state dropped at uninstall. StoreService calls these.
import type { ServiceManifest } from '../../schema/service-manifest.ts';

export interface ServiceLifecycle {
  /** After the containers are created, before they start; a failure fails the start. */
  beforeStart(m: ServiceManifest): Promise<void>;
  /** After the containers are healthy (install, resume, restart); never fails the start. */
  afterStart(m: ServiceManifest): Promise<void>;
  /** After the containers and network are gone. */
  removed(id: string): Promise<void>;
}

export function serviceLifecycle(parts: {
  tls: { beforeStart(m: ServiceManifest): Promise<void>; removed(id: string): void };
  settings: { afterStart(m: ServiceManifest): Promise<void> };
  records: { afterStart(m: ServiceManifest): Promise<void>; removed(id: string): Promise<void> };
  onError?: (what: string, err: unknown) => void;
}): ServiceLifecycle {
  return {
    beforeStart: (m) => parts.tls.beforeStart(m),
    async afterStart(m) {
      // Settings first: a service may derive its records from them.
      await parts.settings.afterStart(m).catch((err) => parts.onError?.(`applying ${m.id}'s settings`, err));
      await parts.records
        .afterStart(m)
        .catch((err) => parts.onError?.(`collecting ${m.id}'s DNS records`, err));
    },
    async removed(id) {
      parts.tls.removed(id);
      await parts.records.removed(id).catch((err) => parts.onError?.(`removing ${id}'s DNS records`, err));
    },
  };
}
