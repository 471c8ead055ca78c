// The container engine's store side (core's ServiceEnginePort): builds a service's images from its
// catalog folder (buildImage: never pulls, skips unchanged inputs), makes the service's own network,
// and creates, starts and removes its containers. Everything is labelled for the cell and the store
// id, and only objects carrying both labels are ever listed or touched.
import type { ServiceContainerState, ServiceEnginePort } from '../../core/ports/service-store.ts';
import { CELL_DOMAIN_ENV } from '../../render/store/service-containers.ts';
import { parseImageRef } from '../../schema/image-ref.ts';
import { type BindSpec, LABELS } from '../../schema/runtime.ts';
import { buildImage } from './build-image.ts';
import { HELPER_KINDS, removeEndedHelpers } from './ended-helpers.ts';
import type { DockerEngine } from './engine.ts';
import { HealthcheckReadiness } from './healthcheck-readiness.ts';
import { prepareBind } from './host-dirs.ts';

const status = (err: unknown) => (err as { statusCode?: number }).statusCode;

export function dockerServiceEngine(engine: DockerEngine): ServiceEnginePort {
  /** A container's inspection; undefined when it is gone. */
  const inspectContainer = async (container: string) => {
    try {
      return await engine.docker.getContainer(container).inspect();
    } catch (err) {
      if (status(err) === 404) return undefined;
      throw err;
    }
  };
  const docker = engine.docker;
  const readiness = new HealthcheckReadiness(engine);
  return {
    available: () => engine.reachable(),
    hasImage: async (id) => (await engine.imageId(id)) !== undefined,
    async build(opts) {
      const b = await buildImage(docker, opts);
      return { id: b.id, built: b.built };
    },
    // By digest only: a tag names whatever the registry serves today, a digest the bytes verified.
    async pull(ref, onLine) {
      const p = parseImageRef(ref);
      if (!p.ok || p.ref.kind !== 'digest') throw new Error('only an image pinned by digest is pulled');
      try {
        await docker.getImage(ref).inspect();
        return; // the engine has these bytes already
      } catch (err) {
        if (status(err) !== 404) throw err;
      }
      const stream = await docker.pull(ref);
      await new Promise<void>((resolve, reject) => {
        docker.modem.followProgress(
          stream,
          (err: Error | null) =>
            err ? reject(new Error(`pulling ${ref} failed: ${err.message}`)) : resolve(),
          (e: { status?: unknown; error?: unknown }) => {
            if (typeof e.error === 'string')
              reject(new Error(`pulling ${ref} failed: ${e.error.slice(0, 300)}`));
            else if (typeof e.status === 'string') onLine?.(e.status);
          },
        );
      });
    },
    async ensureNetwork(cellId, name, serviceId) {
      const found = await docker.listNetworks({ filters: { name: [name] } });
      if (found.some((n) => n.Name === name)) return;
      await docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: { [LABELS.managed]: 'true', [LABELS.cell]: cellId, [LABELS.storeId]: serviceId },
      });
    },
    async removeNetwork(name) {
      const net = docker.getNetwork(name);
      let info: { Containers?: Record<string, unknown> };
      try {
        info = (await net.inspect()) as typeof info;
      } catch (err) {
        if (status(err) === 404) return;
        throw err;
      }
      // Caddy (joined to reach the routes) is detached first: a network with endpoints cannot go.
      for (const id of Object.keys(info.Containers ?? {}))
        await net.disconnect({ Container: id, Force: true }).catch(() => undefined);
      await net.remove().catch((err: unknown) => {
        if (status(err) !== 404) throw err;
      });
    },
    async connect(network, container) {
      try {
        await docker.getNetwork(network).connect({ Container: container });
      } catch (err) {
        // 403/409: attached already; 404: no such container (no Caddy in this cell).
        if (![403, 404, 409].includes(status(err) ?? 0)) throw err;
      }
    },
    async cellDomainOf(container) {
      const prefix = `${CELL_DOMAIN_ENV}=`;
      const env = (await inspectContainer(container))?.Config.Env ?? [];
      return env.find((e) => e.startsWith(prefix))?.slice(prefix.length);
    },
    async networksOf(container) {
      const i = await inspectContainer(container);
      return i ? Object.keys(i.NetworkSettings.Networks ?? {}) : undefined;
    },
    // As root on the host (tests, a host CLI) directly; otherwise (cell-api inside the cell runs as its
    // own user and sees none of the host's directories) a one-off container of the base image does
    // it: Docker creates a bind's missing source directory, `install -d` gives it to the service.
    prepareVolume: (bind) =>
      process.getuid?.() === 0 ? Promise.resolve(prepareBind(bind)) : prepareWithContainer(engine, bind),
    createContainer: (cellId, network, spec, hash) => engine.createContainer(cellId, network, spec, hash),
    start: (id) => engine.start(id),
    restart: (id) => engine.restart(id),
    async remove(id) {
      await engine.remove(id).catch((err: unknown) => {
        if (status(err) !== 404) throw err;
      });
    },
    async containers(cellId, serviceId): Promise<ServiceContainerState[]> {
      const list = await docker.listContainers({
        all: true,
        filters: {
          label: [`${LABELS.managed}=true`, `${LABELS.cell}=${cellId}`, `${LABELS.storeId}=${serviceId}`],
        },
      });
      return Promise.all(
        list.map(async (c) => {
          const i = await docker.getContainer(c.Id).inspect();
          return {
            id: c.Id,
            name: (c.Names[0] ?? '').replace(/^\//, ''),
            running: i.State.Running,
            health: i.State.Health?.Status,
          };
        }),
      );
    },
    ready: (container) => readiness.check(container),
  };
}

/** `pic serve` without Docker: the store lists its catalog, and every change answers 409. */
export const NO_SERVICE_ENGINE: ServiceEnginePort = {
  available: async () => false,
  pull: async () => {
    throw new Error('no container engine');
  },
  build: async () => {
    throw new Error('no container engine');
  },
  ensureNetwork: async () => {},
  removeNetwork: async () => {},
  connect: async () => {},
  networksOf: async () => undefined,
  prepareVolume: async () => {},
  hasImage: async () => false,
  createContainer: async () => {
    throw new Error('no container engine');
  },
  start: async () => {},
  restart: async () => {},
  remove: async () => {},
  containers: async () => [],
  ready: async () => ({ ready: false, detail: 'no container engine' }),
};

/** The image every cell already has (its images are built on it): nothing is pulled. */
export const BASE_IMAGE = 'debian:bookworm-slim';

export async function prepareWithContainer(engine: DockerEngine, bind: BindSpec): Promise<void> {
  if (bind.external) throw new Error('external binds are prepared by the cell, not the store');
  // A colon would end the bind's source in Docker's "src:dst" form.
  if (!bind.host.startsWith('/') || bind.host.includes(':'))
    throw new Error(`not a bind source: ${bind.host}`);
  const owner = (n: number) => String(Math.trunc(n));
  const mode = ((bind.mode ?? 0o700) & 0o7777).toString(8).padStart(4, '0');
  await removeEndedHelpers(engine);
  const c = await engine.docker.createContainer({
    Image: BASE_IMAGE,
    User: '0',
    Cmd: ['install', '-d', '-o', owner(bind.uid), '-g', owner(bind.gid ?? bind.uid), '-m', mode, '/v'],
    Labels: { [LABELS.managed]: 'true', [LABELS.storeId]: HELPER_KINDS.preparation },
    HostConfig: {
      Binds: [`${bind.host}:/v`],
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      CapAdd: ['CHOWN', 'FOWNER'],
      SecurityOpt: ['no-new-privileges'],
    },
  });
  try {
    await c.start();
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    if (StatusCode !== 0) {
      const log = (await c.logs({ stdout: true, stderr: true })).toString().trim().slice(-300);
      throw new Error(`preparing ${bind.host} failed (exit ${StatusCode}): ${log}`);
    }
  } finally {
    await c.remove({ force: true }).catch(() => undefined);
  }
}
