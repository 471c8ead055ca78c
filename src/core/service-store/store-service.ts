// The service store's use-case (issue 12, "Lifecycle"): the catalog with each service's state, and
// install, uninstall and restart as background jobs with progress (POST answers 202, GET shows the
// phase). Decisions come first and synchronously: unknown id 404; no Docker here, a job already
// running for the service, or a service others require 409; a refused manifest 422. The engine work
// is in service-jobs.ts. Installed services' routes are offered to DNS, Caddy and the firewall
// through InstalledServicesPort, whose listeners run after every install and uninstall.

import {
  renderServiceContainers,
  storeContainerName,
  storeNetworkName,
} from '../../render/store/service-containers.ts';
import { allocateVirtualIps } from '../../render/store/virtual-ips.ts';
import type { ServiceVolume } from '../../schema/backup.ts';
import { cidrRange, formatIpv4 } from '../../schema/fields.ts';
import type { ServiceManifest } from '../../schema/service-manifest.ts';
import type {
  CatalogItem,
  IndexStatus,
  ServiceState,
  StoreJob,
  StoreJobPhase,
} from '../../schema/service-store.ts';
import { AppError } from '../errors.ts';
import type {
  InstalledServiceFacts,
  InstalledServiceRoute,
  InstalledServicesPort,
} from '../ports/installed-services.ts';
import type {
  CatalogService,
  InstalledService,
  InstalledServicesRepository,
  ServiceCatalogPort,
} from '../ports/service-store.ts';
import type { TrustedKey } from './cosign.ts';
import { type PlanStep, planServiceChange } from './install-plan.ts';
import {
  buildImages,
  type JobDeps,
  pullImages,
  type Report,
  removeService,
  runContainers,
  type ServiceWiring,
  type StoreCell,
  verifyImages,
  verifyRemoteImages,
} from './service-jobs.ts';
import type { ServiceLifecycle } from './service-lifecycle.ts';

export type { StoreCell };

export interface StoreServiceDeps extends Omit<JobDeps, 'healthTimeoutMs' | 'pollMs'> {
  catalog: ServiceCatalogPort;
  repo: InstalledServicesRepository;
  cell: () => StoreCell;
  /** The keys signed images are verified against, read at each job (the owner may add one); default verify.keys. */
  trustedKeys?: () => readonly TrustedKey[];
  healthTimeoutMs?: number;
  pollMs?: number;
  now?: () => Date;
  log?: (level: 'info' | 'warn' | 'error', fields: Record<string, unknown>, msg: string) => void;
  /** Certificates before a start, settings and DNS records after it, cleanup at uninstall (issue 13). */
  lifecycle?: ServiceLifecycle;
  /**
   * Awaited before each pass that makes services again for a new domain (followDomain): the cell's
   * DNS apply, queued behind the switch's own, so the devices' names move before any container.
   */
  beforeDomainFollow?: () => Promise<unknown>;
}

interface Job extends StoreJob {
  running: boolean;
}

/** A service gets a virtual IP when something answers there: HTTPS routes, names or host ports. */
export function needsVirtualIp(m: ServiceManifest): boolean {
  return (m.http_routes ?? []).length + (m.dns_names ?? []).length + (m.host_ports ?? []).length > 0;
}

/**
 * The names of the services `m` requires, at their virtual IPs: a route of `m` on one of them is
 * answered there (the policy allowed only that exception to a name another service holds).
 */
function dependencyNames(m: ServiceManifest, rows: readonly InstalledService[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const id of m.requires ?? []) {
    const row = rows.find((r) => r.id === id && r.state !== 'failed');
    if (!row?.virtualIp) continue;
    for (const n of row.manifest.dns_names ?? []) out[n] = row.virtualIp;
  }
  return out;
}

/** Where cell-wireguard reaches the host's published ports: BIND_ADDRESS, or the cell network's gateway. */
function publishedAddress(cell: StoreCell): string {
  return cell.bindAddress && cell.bindAddress !== '0.0.0.0'
    ? cell.bindAddress
    : formatIpv4(cidrRange(cell.cellNetwork).first + 1);
}

export const NO_DOCKER =
  'Store services run as containers, and this API runs without Docker (pic serve): start the cell with ./pic up to install, uninstall or restart them';

export class StoreService implements InstalledServicesPort {
  readonly #d: StoreServiceDeps;
  readonly #jobs = new Map<string, Job>();
  readonly #listeners = new Set<() => void>();
  #catalog: CatalogService[] | undefined;

  constructor(deps: StoreServiceDeps) {
    this.#d = deps;
    // A job does not outlive the process: an install a crash stopped is failed (a retry cleans up).
    for (const s of deps.repo.list())
      if (s.state === 'installing') deps.repo.setState(s.id, 'failed', 'interrupted: cell-api stopped');
  }

  /**
   * The catalog as the port lists it now (the remote index may have changed), plus each installed
   * service it no longer offers (an index entry removed, the URL cleared): it must stay visible and
   * uninstallable, from the manifest recorded at install.
   */
  async #entries(): Promise<CatalogService[]> {
    const listed = await this.#d.catalog.list();
    const gone = this.#d.repo
      .list()
      .filter((r) => !listed.some((c) => c.manifest.id === r.id))
      .map((r): CatalogService => ({ manifest: r.manifest, dir: '', source: 'index' }));
    this.#catalog =
      gone.length === 0
        ? listed
        : [...listed, ...gone].sort((a, b) => a.manifest.id.localeCompare(b.manifest.id));
    return this.#catalog;
  }

  /** Whether the catalog offers `id` (as last loaded; before the first load, any id may be). */
  knows(id: string): boolean {
    return this.#catalog?.some((c) => c.manifest.id === id) ?? true;
  }

  async #entry(id: string): Promise<CatalogService> {
    const e = (await this.#entries()).find((c) => c.manifest.id === id);
    if (!e) throw new AppError('not_found', `service ${id} is not in the catalog`);
    return e;
  }

  #state(id: string, row: InstalledService | undefined): ServiceState {
    const job = this.#jobs.get(id);
    if (job?.running) return job.action === 'install' ? 'installing' : 'uninstalling';
    if (this.#restarting.has(id)) return 'restarting';
    if (!row) return 'not_installed';
    return row.state === 'installing' ? 'installing' : row.state;
  }

  readonly #restarting = new Set<string>();

  #item(e: CatalogService, rows: readonly InstalledService[]): CatalogItem {
    const m = e.manifest;
    const row = rows.find((r) => r.id === m.id);
    const job = this.#jobs.get(m.id);
    const domain = this.#d.cell().domain;
    return {
      id: m.id,
      name: m.name,
      description: m.description,
      version: m.version,
      kind: m.kind,
      requires: [...(m.requires ?? [])],
      installed: row !== undefined && row.state !== 'failed',
      state: this.#state(m.id, row),
      subdomains: (m.http_routes ?? []).map((r) => `${r.subdomain}.${domain}`),
      accounts: m.accounts !== undefined,
      source: e.source ?? 'builtin',
      ...(row && row.version !== m.version ? { installed_version: row.version } : {}),
      ...(row?.lastError ? { last_error: row.lastError } : {}),
      ...(job
        ? {
            job: {
              action: job.action,
              phase: job.phase,
              message: job.message,
              ...(job.error ? { error: job.error } : {}),
            },
          }
        : {}),
    };
  }

  async catalog(): Promise<{ services: CatalogItem[]; index?: IndexStatus }> {
    const entries = await this.#entries();
    const rows = this.#d.repo.list();
    const index = this.#d.catalog.status?.();
    return { services: entries.map((e) => this.#item(e, rows)), ...(index ? { index } : {}) };
  }

  async detail(id: string): Promise<CatalogItem> {
    return this.#item(await this.#entry(id), this.#d.repo.list());
  }

  active(): { services: Array<{ id: string; name: string; state: ServiceState; url: string | null }> } {
    const domain = this.#d.cell().domain;
    return {
      services: this.#d.repo
        .list()
        .filter((r) => r.state !== 'failed')
        .map((r) => {
          const sub = r.manifest.http_routes?.[0]?.subdomain;
          return {
            id: r.id,
            name: r.manifest.name,
            state: this.#state(r.id, r),
            url: sub ? `https://${sub}.${domain}` : null,
          };
        }),
    };
  }

  /** The running services' backup_volumes, each in the container that mounts it (cell backups). */
  volumes(): ServiceVolume[] {
    const { prefix } = this.#d.cell();
    return this.#d.repo
      .list()
      .filter((r) => r.state === 'running')
      .flatMap((r) =>
        (r.manifest.backup_volumes ?? []).flatMap((volume) => {
          const c = r.manifest.containers.find((c) => c.volumes?.some((v) => v.name === volume));
          const path = c?.volumes?.find((v) => v.name === volume)?.path;
          return c && path
            ? [{ service: r.id, volume, container: storeContainerName(prefix, r.id, c.name), path }]
            : [];
        }),
      );
  }

  // InstalledServicesPort: what DNS, Caddy and the firewall render from.
  routes(): InstalledServiceRoute[] {
    const cell = this.#d.cell();
    const rows = this.#d.repo.list();
    return rows
      .filter((r) => r.state === 'running' && r.virtualIp)
      .flatMap((r) =>
        renderServiceContainers(r.manifest, {
          cellDir: cell.cellDir,
          prefix: cell.prefix,
          bindAddress: cell.bindAddress,
          domain: cell.domain,
          virtualIp: r.virtualIp!,
          namesAt: dependencyNames(r.manifest, rows),
        }).routes.map((route) => ({
          serviceId: r.id,
          // The label: each renderer puts it under the domain it renders for (a domain change renders
          // the target config's domain while the applied one is still the cell's).
          subdomain: route.subdomain,
          virtualIp: r.virtualIp!,
          ...(route.address && route.address !== r.virtualIp ? { address: route.address } : {}),
          upstream: route.upstream,
        })),
      );
  }

  /** Each running service with a virtual IP: its own names and its host ports (issue 13). */
  services(): InstalledServiceFacts[] {
    const cell = this.#d.cell();
    const hostAddress = publishedAddress(cell);
    return this.#d.repo
      .list()
      .filter((r) => r.state === 'running' && r.virtualIp)
      .map((r) => ({
        serviceId: r.id,
        virtualIp: r.virtualIp!,
        names: [...(r.manifest.dns_names ?? [])],
        hostPorts: (r.manifest.host_ports ?? []).map((h) => ({ proto: h.proto, port: h.port })),
        hostAddress,
      }))
      .sort((a, b) => a.serviceId.localeCompare(b.serviceId));
  }

  /**
   * Each running service's containers on the networks of the services it requires (issue 13), joined
   * live: after a dependency's network came back (`pic up` recreated it), the tick re-joins them.
   * Returns the joins it made.
   */
  async joinDependencies(): Promise<Array<{ container: string; network: string }>> {
    if (!(await this.#d.engine.available())) return [];
    const cell = this.#d.cell();
    const joined: Array<{ container: string; network: string }> = [];
    for (const r of this.#d.repo.list()) {
      if (r.state !== 'running' || (r.manifest.requires ?? []).length === 0) continue;
      if (this.#jobs.get(r.id)?.running) continue;
      const wanted = (r.manifest.requires ?? []).map((id) => storeNetworkName(cell.prefix, id));
      for (const c of r.manifest.containers) {
        if (c.network_mode === 'none') continue;
        const name = storeContainerName(cell.prefix, r.id, c.name);
        const attached = this.#d.engine.networksOf ? await this.#d.engine.networksOf(name) : [];
        if (!attached) continue; // gone: resume recreates it, joined
        for (const network of wanted) {
          if (attached.includes(network)) continue;
          await this.#d.engine.connect(network, name);
          joined.push({ container: name, network });
        }
      }
    }
    return joined;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #notify(): void {
    for (const l of this.#listeners) {
      try {
        l();
      } catch (err) {
        this.#d.log?.('error', { err: (err as Error).message }, 'a store change listener failed');
      }
    }
  }

  async #ready(id: string): Promise<void> {
    await this.#entry(id);
    if (!(await this.#d.engine.available())) throw new AppError('conflict', NO_DOCKER);
  }

  #busy(ids: readonly string[]): void {
    const busy = ids.filter((i) => this.#jobs.get(i)?.running || this.#restarting.has(i));
    if (busy.length > 0)
      throw new AppError('conflict', `a job is already running for ${busy.join(', ')}: wait until it ends`);
  }

  #installed(): ServiceManifest[] {
    return this.#d.repo
      .list()
      .filter((r) => r.state !== 'failed')
      .map((r) => r.manifest);
  }

  /** Plans, then runs the install in the background; 202 with the state. */
  async install(id: string): Promise<{ service: string; state: ServiceState }> {
    await this.#ready(id);
    const entries = await this.#entries();
    this.#busy([id]);
    const cell = this.#d.cell();
    const steps = planServiceChange({
      catalog: entries.map((e) => e.manifest),
      installed: this.#installed(),
      request: { action: 'install', id },
      heldPorts: cell.heldPorts,
    });
    this.#busy(steps.map((s) => s.id));
    if (steps.length === 0) return { service: id, state: this.#state(id, this.#d.repo.get(id)) };
    // Remote images are checked before answering: an unsigned or unknown one is 422 now.
    const d = this.#jobDeps();
    for (const s of steps) await verifyRemoteImages(s.manifest, cell.verification, d);
    this.#busy(steps.map((s) => s.id));
    for (const s of steps)
      this.#jobs.set(s.id, { action: 'install', phase: 'queued', message: 'waiting', running: true });
    void this.#runInstall(steps, entries);
    return { service: id, state: 'installing' };
  }

  async #runInstall(steps: readonly PlanStep[], entries: readonly CatalogService[]): Promise<void> {
    for (const [i, step] of steps.entries()) {
      const ok = await this.#installOne(step, entries.find((e) => e.manifest.id === step.id)!.dir);
      if (!ok) {
        // What came after a failed dependency cannot be installed: said on each.
        for (const later of steps.slice(i + 1))
          this.#finish(later.id, 'failed', `not installed: ${step.id}, which it needs, failed`);
        return;
      }
    }
  }

  #report(id: string) {
    return (phase: StoreJobPhase, message: string) => {
      const job = this.#jobs.get(id);
      if (job) Object.assign(job, { phase, message });
    };
  }

  #finish(id: string, phase: 'done' | 'failed', message: string, error?: string): void {
    const job = this.#jobs.get(id);
    if (job) {
      Object.assign(job, { phase, message, running: false });
      if (error) job.error = error;
    }
  }

  #jobDeps(): JobDeps {
    return {
      engine: this.#d.engine,
      verify: this.#d.trustedKeys ? { ...this.#d.verify, keys: this.#d.trustedKeys() } : this.#d.verify,
      healthTimeoutMs: this.#d.healthTimeoutMs ?? 120_000,
      pollMs: this.#d.pollMs ?? 250,
    };
  }

  async #installOne(step: PlanStep, dir: string): Promise<boolean> {
    const m = step.manifest;
    const report = this.#report(m.id);
    const cell = this.#d.cell();
    const d = this.#jobDeps();
    const now = (this.#d.now?.() ?? new Date()).toISOString();
    const previous = this.#d.repo.get(m.id);
    let recorded = false;
    try {
      const images = await buildImages(m, dir, d, report);
      // A virtual IP for a service with routes, names or host ports, kept from an earlier install
      // while it stays valid.
      const rows = this.#d.repo.list().filter((r) => r.id !== m.id);
      let virtualIp: string | undefined;
      if (needsVirtualIp(m)) {
        const assigned: Record<string, string> = {};
        for (const r of rows) if (r.virtualIp) assigned[r.id] = r.virtualIp;
        if (previous?.virtualIp) assigned[m.id] = previous.virtualIp;
        const a = allocateVirtualIps({
          cellNetwork: cell.cellNetwork,
          vpnNetwork: cell.vpnNetwork,
          taken: cell.taken,
          assigned,
          services: [m.id],
        });
        if (!a.ok) throw new AppError('conflict', a.problem);
        virtualIp = a.assigned[m.id];
      }
      // The image IDs are recorded at build: they are what verification pins and what runs.
      this.#d.repo.put({
        id: m.id,
        version: m.version,
        state: 'installing',
        virtualIp,
        images,
        manifest: m,
        installedAt: now,
        lastError: undefined,
      });
      recorded = true;
      await verifyImages(m, images, cell.verification, d, report);
      // Remote images are pulled only now, by digest, once verification let them through.
      await pullImages(m, d, report);
      await runContainers(m, images, virtualIp, cell, d, report, this.#wiring(m), this.#beforeStart(m));
      this.#d.repo.setState(m.id, 'running', undefined);
      report('wire', 'telling DNS, Caddy and the firewall');
      this.#notify();
      await this.#afterStart(m, report);
      this.#finish(m.id, 'done', `${m.name} is installed and running`);
      this.#d.log?.('info', { service: m.id, version: m.version }, 'store service installed');
      return true;
    } catch (err) {
      const why = (err as Error).message;
      this.#d.log?.('error', { service: m.id, err: why }, 'store service install failed');
      report('failed', 'cleaning up');
      const cleanup = await removeService(m.id, cell, d).then(
        () => '',
        (e: Error) => ` (cleaning up also failed: ${e.message})`,
      );
      if (recorded) this.#d.repo.setState(m.id, 'failed', why + cleanup);
      else
        this.#d.repo.put({
          id: m.id,
          version: m.version,
          state: 'failed',
          virtualIp: previous?.virtualIp,
          images: {},
          manifest: m,
          installedAt: now,
          lastError: why + cleanup,
        });
      this.#finish(m.id, 'failed', `installing ${m.name} failed`, why + cleanup);
      return false;
    }
  }

  /** Refuses while others require it; runs the uninstall in the background; 202. */
  async uninstall(id: string): Promise<{ service: string; state: ServiceState }> {
    await this.#ready(id);
    const entries = await this.#entries();
    this.#busy([id]);
    const steps = planServiceChange({
      catalog: entries.map((e) => e.manifest),
      installed: this.#installed(),
      request: { action: 'uninstall', id },
    });
    const row = this.#d.repo.get(id);
    // Not installed: nothing to do, but a failed install's row (and leftovers) still go.
    if (steps.length === 0 && !row) return { service: id, state: 'not_installed' };
    this.#jobs.set(id, { action: 'uninstall', phase: 'stop', message: 'stopping', running: true });
    void this.#runUninstall(id);
    return { service: id, state: 'uninstalling' };
  }

  async #runUninstall(id: string): Promise<void> {
    const report = this.#report(id);
    try {
      await removeService(id, this.#d.cell(), this.#jobDeps(), report);
      this.#d.repo.remove(id);
      await this.#d.lifecycle?.removed(id);
      report('wire', 'telling DNS, Caddy and the firewall');
      this.#notify();
      this.#finish(id, 'done', `uninstalled; its data stays in data/services/${id}/`);
      this.#d.log?.('info', { service: id }, 'store service uninstalled');
    } catch (err) {
      const why = (err as Error).message;
      this.#d.log?.('error', { service: id, err: why }, 'store service uninstall failed');
      this.#finish(id, 'failed', 'uninstalling failed', why);
    }
  }

  /** Restarts the service's containers (200 once restarted). */
  async restart(id: string): Promise<{ service: string; state: ServiceState }> {
    await this.#ready(id);
    this.#busy([id]);
    const row = this.#d.repo.get(id);
    if (row?.state !== 'running')
      throw new AppError('conflict', `service ${id} is not installed and running: install it first`);
    this.#restarting.add(id);
    try {
      const cell = this.#d.cell();
      const containers = await this.#d.engine.containers(cell.cellId, id);
      if (containers.length === 0)
        throw new AppError('conflict', `service ${id} has no containers: uninstall and install it again`);
      for (const c of containers) await this.#d.engine.restart(c.id);
    } finally {
      this.#restarting.delete(id);
    }
    await this.#afterStart(row.manifest);
    return { service: id, state: this.#state(id, this.#d.repo.get(id)) };
  }

  /**
   * Restarts every running service, those others require first (a restore put their volumes back
   * under them). Each failure is collected; the others still restart.
   */
  async restartAll(): Promise<void> {
    const failed: string[] = [];
    const ordered = this.#runningRequiredFirst();
    for (const r of ordered)
      await this.restart(r.id).catch((err: unknown) => failed.push(`${r.id}: ${(err as Error).message}`));
    if (failed.length > 0) throw new Error(failed.join('; '));
  }

  /** After setup: installs what the owner chose in the wizard, when the catalog has it and Docker is here. */
  async installRequested(ids: readonly string[]): Promise<void> {
    if (ids.length === 0 || !(await this.#d.engine.available())) return;
    const known = new Set((await this.#entries()).map((e) => e.manifest.id));
    for (const id of ids) {
      if (!known.has(id)) {
        this.#d.log?.('warn', { service: id }, 'a service chosen at setup is not in the catalog');
        continue;
      }
      await this.install(id).catch((err: Error) =>
        this.#d.log?.('error', { service: id, err: err.message }, 'installing a service chosen at setup'),
      );
    }
  }

  /**
   * At start, inside the cell: a running service whose containers are gone (`pic down`, then `pic up`)
   * gets them again from its recorded manifest and image IDs; one that cannot is failed, with why.
   */
  async resume(): Promise<void> {
    if (!(await this.#d.engine.available())) return;
    const cell = this.#d.cell();
    for (const r of this.#d.repo.list()) {
      if (r.state !== 'running' || this.#jobs.get(r.id)?.running) continue;
      const have = await this.#d.engine.containers(cell.cellId, r.id);
      if (have.length === r.manifest.containers.length && have.every((c) => c.running)) continue;
      await this.#recreate(r, 'recreating', 'is running again');
    }
  }

  /**
   * Every running service whose containers were made for another domain than the cell's (an applied
   * domain change) is made again, those others require first: each gets PIC_CELL_DOMAIN, its
   * certificate for its new names and its DNS records (an MX naming mail.<domain>) again; a restart
   * would keep the old domain in the container's environment. Volumes stay; one that cannot be made
   * again is failed, with why. What each container has decides, not a remembered domain, so a pass
   * after a restart (cell-api stopped midway) finishes the work, and a service that was busy (an
   * install that began on the old domain) is made again by a later pass: the composition calls this
   * after each apply and from its tick, and a pass is skipped while the last one left nothing behind
   * for the same domain. Passes run one after another.
   */
  followDomain(): Promise<void> {
    const domain = this.#d.cell().domain;
    if (this.#followed === domain) return this.#following;
    const run = this.#following.then(() => this.#followDomainNow());
    this.#following = run.catch(() => undefined);
    return run;
  }

  /** The domain the last complete pass left every running service on. */
  #followed: string | undefined;
  #following: Promise<void> = Promise.resolve();

  async #followDomainNow(): Promise<void> {
    const domain = this.#d.cell().domain;
    if (this.#followed === domain || !(await this.#d.engine.available())) return;
    const cell = this.#d.cell();
    const behind: string[] = [];
    for (const { id } of this.#runningRequiredFirst())
      if (await this.#madeForAnother(cell, id)) behind.push(id);
    if (behind.length > 0) await this.#d.beforeDomainFollow?.();
    let complete = true;
    for (const id of behind) {
      // Read again: the owner may have uninstalled it, or begun a job, while earlier ones were made.
      const r = this.#d.repo.get(id);
      if (r?.state !== 'running') continue;
      if (this.#jobs.get(id)?.running || this.#restarting.has(id)) {
        complete = false; // a later pass looks at it once its job is done
        continue;
      }
      await this.#recreate(r, `recreating for ${cell.domain}`, `runs for ${cell.domain}`);
    }
    // An install or a restart still running (of a service not listed as running, too) may have
    // begun on the old domain: a later pass looks at it once it is done.
    const busy = [...this.#jobs.values()].some((j) => j.running) || this.#restarting.size > 0;
    if (complete && !busy && this.#d.cell().domain === domain) this.#followed = domain;
  }

  /** The running services, those others require first (one level: what the manifests name). */
  #runningRequiredFirst(): InstalledService[] {
    const rows = this.#d.repo.list().filter((r) => r.state === 'running');
    const required = new Set(rows.flatMap((r) => r.manifest.requires ?? []));
    return [...rows.filter((r) => required.has(r.id)), ...rows.filter((r) => !required.has(r.id))];
  }

  /** Whether a container of the service carries another domain than the cell's. */
  async #madeForAnother(cell: StoreCell, id: string): Promise<boolean> {
    const domainOf = this.#d.engine.cellDomainOf?.bind(this.#d.engine);
    if (!domainOf) return false;
    for (const c of await this.#d.engine.containers(cell.cellId, id)) {
      const made = await domainOf(c.id);
      if (made !== undefined && made !== cell.domain) return true;
    }
    return false;
  }

  /** Makes a running service's containers again from its recorded manifest and images. */
  async #recreate(r: InstalledService, message: string, done: string): Promise<void> {
    const cell = this.#d.cell();
    const d = this.#jobDeps();
    this.#jobs.set(r.id, { action: 'install', phase: 'create', message, running: true });
    try {
      // A remote image removed meanwhile is pulled again by the digest verified at install.
      await pullImages(r.manifest, d, this.#report(r.id));
      const images = await this.#imagesFor(r, d);
      await runContainers(
        r.manifest,
        images,
        r.virtualIp,
        cell,
        d,
        this.#report(r.id),
        this.#wiring(r.manifest),
        this.#beforeStart(r.manifest),
      );
      await this.#afterStart(r.manifest, this.#report(r.id));
      this.#finish(r.id, 'done', `${r.manifest.name} ${done}`);
    } catch (err) {
      const why = (err as Error).message;
      await removeService(r.id, cell, d).catch(() => undefined);
      this.#d.repo.setState(r.id, 'failed', why);
      this.#finish(r.id, 'failed', `recreating ${r.manifest.name} failed`, why);
      this.#notify();
    }
  }

  /**
   * The recorded images, or when one is gone (a backup restored onto a new machine, a pruned engine)
   * the same version built again from the catalog, verified and recorded; a catalog that no longer
   * has that version is an error that says to install it again.
   */
  async #imagesFor(r: InstalledService, d: JobDeps): Promise<Record<string, string>> {
    const ids = Object.values(r.images);
    const present = await Promise.all(ids.map((id) => this.#d.engine.hasImage(id)));
    if (present.every(Boolean)) return r.images;
    const entry = (await this.#entries()).find((e) => e.manifest.id === r.id);
    // An entry with no folder is the recorded manifest of a service the catalog no longer offers.
    if (!entry?.dir || entry.manifest.version !== r.version)
      throw new Error(
        `its image is not on this machine and the catalog no longer has version ${r.version}: install it again`,
      );
    const report = this.#report(r.id);
    const images = await buildImages(entry.manifest, entry.dir, d, report);
    await verifyImages(entry.manifest, images, this.#d.cell().verification, d, report);
    this.#d.repo.put({ ...r, images });
    return images;
  }

  /** What a service's containers need of the services it requires: their manifests, as installed. */
  #wiring(m: ServiceManifest): ServiceWiring {
    const rows = this.#d.repo.list().filter((r) => r.state !== 'failed');
    const dependencies = (m.requires ?? []).map((id) => {
      const row = rows.find((r) => r.id === id);
      if (!row) throw new AppError('conflict', `${m.id} requires ${id}, which is not installed`);
      return row.manifest;
    });
    return { dependencies, namesAt: dependencyNames(m, rows) };
  }

  #beforeStart(m: ServiceManifest): (() => Promise<void>) | undefined {
    const l = this.#d.lifecycle;
    return l ? () => l.beforeStart(m) : undefined;
  }

  /** Settings applied and DNS records collected; what fails is logged there, the service runs on. */
  async #afterStart(m: ServiceManifest, report?: Report): Promise<void> {
    if (!this.#d.lifecycle) return;
    report?.('wire', 'applying its settings and collecting its DNS records');
    await this.#d.lifecycle.afterStart(m);
  }

  /** Resolves once no job runs (tests, shutdown). */
  async idle(): Promise<void> {
    while ([...this.#jobs.values()].some((j) => j.running)) await new Promise((r) => setTimeout(r, 20));
  }
}
