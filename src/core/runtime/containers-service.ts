// The container manager behind /api/containers: only the cell's own (labelled) containers are
// visible or touchable; anything else is "not found", whether or not it exists.
import type { ContainerInfo, ContainerMount } from '../../schema/containers.ts';
import { AppError } from '../errors.ts';
import type { ContainerEnginePort } from '../ports/container-engine.ts';

/** What the container manager asks of the engine. */
export type ContainersEngine = Pick<
  ContainerEnginePort,
  'observe' | 'state' | 'mounts' | 'start' | 'stop' | 'restart' | 'logs'
>;

export interface ContainersPort {
  list(): Promise<ContainerInfo[]>;
  inspect(name: string): Promise<ContainerInfo & { mounts: ContainerMount[] }>;
  act(name: string, action: 'start' | 'stop' | 'restart'): Promise<ContainerInfo>;
  logs(name: string, tail: number): Promise<string>;
  volumes(): Promise<ContainerMount[]>;
}

const unavailable = () =>
  new AppError(
    'unavailable',
    'The data plane is not running (pic serve without Docker): start the cell with ./pic up',
  );

export const noContainers: ContainersPort = {
  list: async () => {
    throw unavailable();
  },
  inspect: async () => {
    throw unavailable();
  },
  act: async () => {
    throw unavailable();
  },
  logs: async () => {
    throw unavailable();
  },
  volumes: async () => {
    throw unavailable();
  },
};

export function dockerContainers(engine: ContainersEngine, cellId: string, selfName: string): ContainersPort {
  const idOf = async (name: string) => {
    const { containers } = await engine.observe(cellId);
    const c = containers.find((o) => o.name === name);
    if (!c) throw new AppError('not_found', `No container ${name} in this cell`);
    return c.id;
  };
  const info = async (id: string): Promise<ContainerInfo> => {
    const s = await engine.state(id);
    return {
      name: s.name,
      service: s.service,
      image: s.image,
      state: s.state,
      health: s.health ?? null,
      started_at: s.startedAt ?? null,
      restart_count: s.restartCount,
      ip: s.ip ?? null,
    };
  };
  const mountsOf = async (id: string, name: string): Promise<ContainerMount[]> =>
    (await engine.mounts(id)).map((m) => ({
      container: name,
      source: m.source,
      destination: m.destination,
      read_only: m.readOnly,
    }));

  return {
    async list() {
      const { containers } = await engine.observe(cellId);
      return (await Promise.all(containers.map((c) => info(c.id)))).sort((a, b) =>
        a.name.localeCompare(b.name),
      );
    },
    async inspect(name) {
      const id = await idOf(name);
      return { ...(await info(id)), mounts: await mountsOf(id, name) };
    },
    async act(name, action) {
      const id = await idOf(name);
      // The API runs in this container: stopping it would end the request and leave no one to start it.
      if (name === selfName && action === 'stop') {
        throw new AppError('conflict', `${name} runs this API; stop it from the host with ./pic down`);
      }
      await engine[action](id);
      return info(id);
    },
    async logs(name, tail) {
      return engine.logs(await idOf(name), tail);
    },
    async volumes() {
      const { containers } = await engine.observe(cellId);
      return (await Promise.all(containers.map((c) => mountsOf(c.id, c.name)))).flat();
    },
  };
}
