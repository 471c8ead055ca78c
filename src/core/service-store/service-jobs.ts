// The engine side of one store service's install and uninstall, step by step (issue 12, "Lifecycle"):
// build → verify → create → start → healthy → wire, and stop → remove → wire. Each step reports its
// phase; an install that fails anywhere removes what it created (containers, the service's network)
// and leaves the data directory, so a retry starts clean and finds the service's data.
import { join } from 'node:path';
import { specHash } from '../../render/runtime/spec-hash.ts';
import {
  renderServiceContainers,
  storeImageTag,
  storeNetworkName,
} from '../../render/store/service-containers.ts';
import type { ServiceManifest } from '../../schema/service-manifest.ts';
import type { StoreJobPhase } from '../../schema/service-store.ts';
import { AppError } from '../errors.ts';
import type { ServiceEnginePort } from '../ports/service-store.ts';
import {
  assertMayRun,
  type ImageCandidate,
  type VerificationDeps,
  type VerificationMode,
  verifyImage,
} from './image-verification.ts';
import type { HeldPort } from './manifest-policy.ts';

/** The cell's facts an install needs, read at the start of each job (the config may change). */
export interface StoreCell {
  /** The label value of everything this cell owns (cellIdFor(cellDir)). */
  cellId: string;
  /** PIC_NAME_PREFIX. */
  prefix: string;
  /** The cell directory: volumes live under <cellDir>/data/services/<id>/. */
  cellDir: string;
  /** BIND_ADDRESS (host ports). */
  bindAddress: string;
  cellNetwork: string;
  vpnNetwork: string;
  /** Addresses on the cell network in use whatever the offsets say (the core containers'). */
  taken: readonly string[];
  /** Host ports the core holds (coreHeldPorts). */
  heldPorts: readonly HeldPort[];
  /** The cell's domain: routes are `<subdomain>.<domain>`. */
  domain: string;
  /** Caddy's container, joined to each service's network to reach its routes; none in some tests. */
  caddyContainer: string | undefined;
  verification: VerificationMode;
}

export type Report = (phase: StoreJobPhase, message: string) => void;

export interface JobDeps {
  engine: ServiceEnginePort;
  verify: Omit<VerificationDeps, 'recordedBuild'>;
  healthTimeoutMs: number;
  pollMs: number;
}

/** Builds every `build` image of the service; returns the image ID per container name. */
export async function buildImages(
  m: ServiceManifest,
  dir: string,
  d: JobDeps,
  report: Report,
): Promise<Record<string, string>> {
  const images: Record<string, string> = {};
  for (const c of m.containers) {
    if (!('build' in c.image)) continue;
    const tag = storeImageTag(m.id, c.name);
    report('build', `building ${tag}`);
    const built = await d.engine.build({
      context: join(dir, c.image.build),
      tag,
      labels: { 'org.pic.store.id': m.id, 'org.pic.store.version': m.version },
      onLine: (line) => report('build', `${c.name}: ${line.slice(0, 200)}`),
    });
    images[c.name] = built.id;
    report('build', `${tag}: ${built.built ? 'built' : 'unchanged, reused'}`);
  }
  return images;
}

/** Each image must be allowed to run (DESIGN decision 7): the recorded build, or a signed digest. */
export async function verifyImages(
  m: ServiceManifest,
  images: Readonly<Record<string, string>>,
  mode: VerificationMode,
  d: JobDeps,
  report: Report,
): Promise<void> {
  const recorded = new Map(
    m.containers.flatMap((c) =>
      images[c.name] ? [[storeImageTag(m.id, c.name), images[c.name]!] as const] : [],
    ),
  );
  for (const c of m.containers) {
    const candidate: ImageCandidate =
      'build' in c.image
        ? { source: 'local-build', name: storeImageTag(m.id, c.name), imageId: images[c.name] ?? '' }
        : { source: 'registry', reference: c.image.ref };
    report('verify', `verifying the image of ${c.name}`);
    const r = await verifyImage(candidate, mode, { ...d.verify, recordedBuild: (n) => recorded.get(n) });
    assertMayRun(r);
    report('verify', `${c.name}: ${r.verdict}`);
  }
}

/**
 * Pulls each remote image (`image.ref`, pinned by digest: the schema allows nothing else) through the
 * engine; call it only once verifyImages let them through. The engine skips an image it has.
 */
export async function pullImages(m: ServiceManifest, d: JobDeps, report: Report): Promise<void> {
  for (const c of m.containers) {
    if (!('ref' in c.image)) continue;
    const ref = c.image.ref;
    report('pull', `pulling ${ref}`);
    await d.engine.pull(ref, (line) => report('pull', `${c.name}: ${line.slice(0, 200)}`));
  }
}

/**
 * Before an install is accepted: each remote image (`image.ref`) must already pass, so that a refused
 * one answers 422 image_unverified at once instead of failing in the background. The job checks again.
 */
export async function verifyRemoteImages(
  m: ServiceManifest,
  mode: VerificationMode,
  d: JobDeps,
): Promise<void> {
  for (const c of m.containers) {
    if (!('ref' in c.image)) continue;
    assertMayRun(
      await verifyImage({ source: 'registry', reference: c.image.ref }, mode, {
        ...d.verify,
        recordedBuild: () => undefined,
      }),
    );
  }
}

/** What a service's containers need of the services it requires (issue 13). */
export interface ServiceWiring {
  /** The required services' manifests, as installed: PIC_SVC_<S>_<C> and their networks. */
  dependencies: readonly ServiceManifest[];
  /** Their `dns_names` at their virtual IPs (a route on one is answered there). */
  namesAt: Readonly<Record<string, string>>;
}

/**
 * Creates the network and containers, joins them to the networks of the services it requires (before
 * they start, so the service finds its dependency by name at once), starts them, waits until each is
 * healthy, joins Caddy. `beforeStart` runs once the containers and their volumes exist, before any
 * starts (the service's certificate files).
 */
export async function runContainers(
  m: ServiceManifest,
  images: Readonly<Record<string, string>>,
  virtualIp: string | undefined,
  cell: StoreCell,
  d: JobDeps,
  report: Report,
  wiring: ServiceWiring = { dependencies: [], namesAt: {} },
  beforeStart?: () => Promise<void>,
): Promise<void> {
  const r = renderServiceContainers(m, {
    cellDir: cell.cellDir,
    prefix: cell.prefix,
    bindAddress: cell.bindAddress,
    domain: cell.domain,
    builtImages: images,
    dependencies: wiring.dependencies,
    namesAt: wiring.namesAt,
    ...(virtualIp ? { virtualIp } : {}),
  });
  const missing = (m.requires ?? []).filter((id) => !wiring.dependencies.some((x) => x.id === id));
  if (missing.length > 0)
    throw new AppError('conflict', `${m.id} requires ${missing.join(', ')}, not installed`);
  // What an earlier attempt left (a crash mid-install) goes first: names must be free.
  await removeContainers(m.id, cell, d);
  report('create', `creating network ${r.network}`);
  await d.engine.ensureNetwork(cell.cellId, r.network, m.id);
  // A dependency's network may be missing while both are recreated (`pic up`): made here, labelled
  // for that service, whose own run finds it.
  for (const dep of wiring.dependencies)
    await d.engine.ensureNetwork(cell.cellId, storeNetworkName(cell.prefix, dep.id), dep.id);
  const ids: Array<{ id: string; name: string }> = [];
  for (const [i, spec] of r.containers.entries()) {
    report('create', `creating ${spec.name}`);
    for (const b of spec.binds) await d.engine.prepareVolume(b);
    const id = await d.engine.createContainer(cell.cellId, r.network, spec, specHash(spec, spec.image));
    ids.push({ id, name: spec.name });
    if (m.containers[i]?.network_mode === 'none') continue;
    for (const network of r.networks) {
      report('create', `joining ${spec.name} to ${network}`);
      await d.engine.connect(network, spec.name);
    }
  }
  if (beforeStart) {
    report('create', 'writing its certificate files');
    await beforeStart();
  }
  for (const c of ids) {
    report('start', `starting ${c.name}`);
    await d.engine.start(c.id);
  }
  await waitHealthy(m.id, ids, cell, d, report);
  if (cell.caddyContainer && r.routes.length > 0) {
    report('wire', `joining ${cell.caddyContainer} to ${r.network}`);
    await d.engine.connect(r.network, cell.caddyContainer);
  }
}

async function waitHealthy(
  id: string,
  containers: ReadonlyArray<{ id: string; name: string }>,
  cell: StoreCell,
  d: JobDeps,
  report: Report,
): Promise<void> {
  const deadline = Date.now() + d.healthTimeoutMs;
  const ready = new Set<string>();
  const detail = new Map<string, string>();
  report('healthy', `waiting for ${containers.map((c) => c.name).join(', ')}`);
  for (;;) {
    const states = await d.engine.containers(cell.cellId, id);
    for (const c of containers) {
      if (ready.has(c.name)) continue;
      const st = states.find((s) => s.id === c.id);
      if (!st?.running) {
        // restart policy unless-stopped: a container that exits is restarted, but one that is gone
        // or keeps failing its start will not become healthy.
        detail.set(c.name, st ? 'not running' : 'gone');
        continue;
      }
      if (st.health === 'healthy') {
        ready.add(c.name);
        continue;
      }
      const r = await d.engine.ready(c.name);
      if (r.ready) ready.add(c.name);
      else detail.set(c.name, r.detail || st.health || 'starting');
    }
    if (ready.size === containers.length) {
      report('healthy', 'every container is healthy');
      return;
    }
    if (Date.now() > deadline) {
      const waiting = containers
        .filter((c) => !ready.has(c.name))
        .map((c) => `${c.name} (${detail.get(c.name) ?? 'starting'})`);
      throw new AppError('unavailable', `timed out waiting for ${waiting.join(', ')} to become healthy`);
    }
    await new Promise((res) => setTimeout(res, d.pollMs));
  }
}

/** Stops and removes every container of the service (found by its labels). */
export async function removeContainers(id: string, cell: StoreCell, d: JobDeps, report?: Report) {
  for (const c of await d.engine.containers(cell.cellId, id)) {
    report?.('stop', `stopping and removing ${c.name}`);
    await d.engine.remove(c.id);
  }
}

/** Containers, then the service's network (Caddy is detached with it). The data directory stays. */
export async function removeService(id: string, cell: StoreCell, d: JobDeps, report?: Report) {
  await removeContainers(id, cell, d, report);
  const network = storeNetworkName(cell.prefix, id);
  report?.('remove', `removing network ${network}`);
  await d.engine.removeNetwork(network);
}
