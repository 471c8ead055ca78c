// What the service store's use-case needs from the outside (issue 12, "Lifecycle"): the catalog, the
// table of installed services, and the container engine's store side (build, networks, containers).

import type { BindSpec, ContainerSpec } from '../../schema/runtime.ts';
import type { ServiceManifest } from '../../schema/service-manifest.ts';
import type { IndexStatus } from '../../schema/service-store.ts';

export interface CatalogService {
  manifest: ServiceManifest;
  /** The service's folder (absolute): the base of its containers' `image.build` directories. */
  dir: string;
  /** Built-in (default), or from the remote index: no folder, its images only by digest. */
  source?: 'builtin' | 'index';
}

export interface ServiceCatalogPort {
  /** Every service the catalog offers, sorted by id. */
  list(): Promise<CatalogService[]>;
  /** The remote index as last fetched; undefined when none is configured. */
  status?(): IndexStatus | undefined;
}

export type InstalledState = 'installing' | 'running' | 'failed';

export interface InstalledService {
  id: string;
  version: string;
  state: InstalledState;
  virtualIp: string | undefined;
  /** The image ID each built container runs, by container name (recorded at build). */
  images: Record<string, string>;
  /** The manifest as it was when installed. */
  manifest: ServiceManifest;
  installedAt: string;
  lastError: string | undefined;
}

export interface InstalledServicesRepository {
  /** Every row that passes the schema again (a restored database may carry crafted rows). */
  list(): InstalledService[];
  get(id: string): InstalledService | undefined;
  put(s: InstalledService): void;
  setState(id: string, state: InstalledState, lastError: string | undefined): void;
  remove(id: string): void;
}

/** A store container as the engine reports it. */
export interface ServiceContainerState {
  id: string;
  name: string;
  running: boolean;
  /** Docker's health status; undefined without a health check. */
  health: string | undefined;
}

export interface ServiceEnginePort {
  /** Whether containers can be made here at all (false under `pic serve` without Docker). */
  available(): Promise<boolean>;
  /** Whether an image (by ID) is on this engine. */
  hasImage(id: string): Promise<boolean>;
  /**
   * Pulls a remote image by digest (`host/repo@sha256:…`, never a tag), once it was verified; nothing
   * when the engine has it already.
   */
  pull(ref: string, onLine?: (line: string) => void): Promise<void>;
  /** Builds (or reuses: same inputs) an image from a folder; never pulls. Returns its image ID. */
  build(opts: {
    context: string;
    tag: string;
    labels: Record<string, string>;
    onLine?: (line: string) => void;
  }): Promise<{ id: string; built: boolean }>;
  /** The service's own network, labelled for the cell and the service; nothing when it exists. */
  ensureNetwork(cellId: string, name: string, serviceId: string): Promise<void>;
  /** Removes the network (detaching whatever is still attached); nothing when it is gone. */
  removeNetwork(name: string): Promise<void>;
  /** Attaches a container (Caddy) to a network; nothing when it is attached already or missing. */
  connect(network: string, container: string): Promise<void>;
  /**
   * The networks a container (by name) is attached to; undefined when there is no such container.
   * Left out (test engines), every wanted join is attempted (connect is idempotent).
   */
  networksOf?(container: string): Promise<string[] | undefined>;
  /**
   * The cell domain a container was made for (its PIC_CELL_DOMAIN); undefined when it has none or
   * is gone. Left out (test engines that keep no environment): every container counts as current.
   */
  cellDomainOf?(container: string): Promise<string | undefined>;
  /**
   * Creates a volume's host directory, owned as the bind says (only the directory itself). Inside
   * the cell, where cell-api is not root and does not see the host's directories, the engine does it.
   */
  prepareVolume(bind: BindSpec): Promise<void>;
  createContainer(cellId: string, network: string, spec: ContainerSpec, hash: string): Promise<string>;
  start(id: string): Promise<void>;
  restart(id: string): Promise<void>;
  /** Stops and removes (forced); nothing when it is gone. */
  remove(id: string): Promise<void>;
  /** The containers labelled for this cell and store service. */
  containers(cellId: string, serviceId: string): Promise<ServiceContainerState[]>;
  /** Runs the container's own health check once (exec); no check = ready once running. */
  ready(container: string): Promise<{ ready: boolean; detail: string }>;
}
