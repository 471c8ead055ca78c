// The only code that talks to the Docker Engine API (dockerode on the unix socket). It lists and
// touches only objects carrying PIC's labels for one cell; it never pulls an image.
import { statSync } from 'node:fs';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import Docker from 'dockerode';
import type {
  ContainerEnginePort,
  ContainerMountState,
  ContainerState,
  ExecResult,
} from '../../core/ports/container-engine.ts';
import type { Observed, ObservedContainer } from '../../core/runtime/plan.ts';
import { type ContainerSpec, LABELS } from '../../schema/runtime.ts';
import { createOptions, DOCKER_SOCKET } from './create-options.ts';
import { removeEndedHelpers } from './ended-helpers.ts';

export { DOCKER_SOCKET };

export class DockerEngine implements ContainerEnginePort {
  readonly docker: Docker;
  constructor(socketPath = DOCKER_SOCKET) {
    this.docker = new Docker({ socketPath });
  }

  async reachable(): Promise<boolean> {
    try {
      await this.docker.ping();
      return true;
    } catch {
      return false;
    }
  }

  socketGid(socketPath = DOCKER_SOCKET): number {
    return statSync(socketPath).gid;
  }

  /** Image id for a local image, or undefined when it has not been built. */
  async imageId(ref: string): Promise<string | undefined> {
    try {
      return (await this.docker.getImage(ref).inspect()).Id;
    } catch {
      return undefined;
    }
  }

  async observe(cellId: string): Promise<Observed> {
    const filters = { label: [`${LABELS.managed}=true`, `${LABELS.cell}=${cellId}`] };
    const [list, nets] = await Promise.all([
      this.docker.listContainers({ all: true, filters }),
      this.docker.listNetworks({ filters }),
    ]);
    const containers: ObservedContainer[] = list.map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      service: c.Labels[LABELS.service] ?? '',
      specHash: c.Labels[LABELS.specHash] ?? '',
      running: c.State === 'running',
    }));
    // The cell network: a store service's own network carries the store label too, and is not it.
    const net = nets.find((n) => !n.Labels?.[LABELS.storeId]);
    const subnet = net?.IPAM?.Config?.[0]?.Subnet;
    const storeNetworks = nets.filter((n) => n.Labels?.[LABELS.storeId]).map((n) => n.Id);
    return { network: net ? { id: net.Id, subnet: subnet ?? '' } : undefined, containers, storeNetworks };
  }

  removeEndedHelpers(cellDir: string): Promise<number> {
    return removeEndedHelpers(this, { cellDir });
  }

  async createNetwork(cellId: string, name: string, subnet: string, gateway: string): Promise<void> {
    await this.docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      CheckDuplicate: true,
      IPAM: { Driver: 'default', Config: [{ Subnet: subnet, Gateway: gateway }] },
      Labels: { [LABELS.managed]: 'true', [LABELS.cell]: cellId },
    });
  }

  async removeNetwork(id: string): Promise<void> {
    await this.docker.getNetwork(id).remove();
  }

  async createContainer(cellId: string, network: string, spec: ContainerSpec, hash: string): Promise<string> {
    const c = await this.docker.createContainer(createOptions(cellId, network, spec, hash));
    return c.id;
  }

  async start(id: string): Promise<void> {
    await this.docker.getContainer(id).start();
  }

  async stop(id: string): Promise<void> {
    await this.docker.getContainer(id).stop({ t: 10 });
  }

  async restart(id: string): Promise<void> {
    await this.docker.getContainer(id).restart({ t: 10 });
  }

  async remove(id: string): Promise<void> {
    await this.docker.getContainer(id).remove({ force: true, v: true });
  }

  async states(cellId: string): Promise<ContainerState[]> {
    const { containers } = await this.observe(cellId);
    return Promise.all(containers.map((c) => this.state(c.id)));
  }

  async state(id: string): Promise<ContainerState> {
    const i = await this.docker.getContainer(id).inspect();
    const nets = Object.values(i.NetworkSettings.Networks ?? {});
    return {
      id: i.Id,
      name: i.Name.replace(/^\//, ''),
      service: i.Config.Labels?.[LABELS.service] ?? '',
      image: i.Config.Image,
      state: i.State.Status,
      health: i.State.Health?.Status,
      startedAt: i.State.StartedAt,
      restartCount: i.RestartCount,
      ip: nets[0]?.IPAddress || undefined,
    };
  }

  async healthcheckTest(container: string): Promise<string[] | undefined> {
    return (await this.docker.getContainer(container).inspect()).Config.Healthcheck?.Test;
  }

  async mounts(id: string): Promise<ContainerMountState[]> {
    const i = await this.docker.getContainer(id).inspect();
    return (i.Mounts ?? []).map((m) => ({ source: m.Source, destination: m.Destination, readOnly: !m.RW }));
  }

  async logs(id: string, tail: number): Promise<string> {
    const buf = (await this.docker
      .getContainer(id)
      .logs({ stdout: true, stderr: true, tail, timestamps: true })) as Buffer;
    return demux(buf);
  }

  /** Runs argv inside a container (no shell); stdin, when given, is written then closed. */
  /**
   * Runs argv in a container (exec form, no shell). With `timeoutMs` or `maxBytes` (stdout and stderr
   * together) the exec is cut off once either is exceeded and the call rejects, saying which: a hook
   * of a store service cannot hold cell-api or fill its memory.
   */
  async exec(
    container: string,
    argv: string[],
    opts: { stdin?: string; user?: string; timeoutMs?: number; maxBytes?: number } = {},
  ): Promise<ExecResult> {
    const exec = await this.docker.getContainer(container).exec({
      Cmd: argv,
      AttachStdout: true,
      AttachStderr: true,
      AttachStdin: opts.stdin !== undefined,
      ...(opts.user ? { User: opts.user } : {}),
    });
    const stream = await exec.start({ hijack: true, stdin: opts.stdin !== undefined });
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let cut: Error | undefined;
    const stop = (why: Error) => {
      if (cut) return;
      cut = why;
      (stream as unknown as { destroy(): void }).destroy();
    };
    const take = (into: Buffer[]) => (b: Buffer) => {
      size += b.length;
      if (opts.maxBytes !== undefined && size > opts.maxBytes)
        stop(new Error(`its output exceeded ${opts.maxBytes} bytes`));
      else into.push(b);
    };
    stdout.on('data', take(out));
    stderr.on('data', take(err));
    this.docker.modem.demuxStream(stream, stdout, stderr);
    const done = new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', (e) => (cut ? resolve() : reject(e)));
    });
    const timer =
      opts.timeoutMs !== undefined
        ? setTimeout(() => stop(new Error(`it did not finish within ${opts.timeoutMs} ms`)), opts.timeoutMs)
        : undefined;
    try {
      if (opts.stdin !== undefined) {
        stream.write(opts.stdin);
        (stream as unknown as { end(): void }).end();
      }
      await done;
    } finally {
      if (timer) clearTimeout(timer);
    }
    if (cut) throw cut;
    const info = await exec.inspect();
    return {
      exitCode: info.ExitCode ?? -1,
      stdout: Buffer.concat(out).toString(),
      stderr: Buffer.concat(err).toString(),
    };
  }
}

/**
 * A long-lived `docker exec -i` of argv: its stdin and stdout as streams (stderr is dropped), for
 * line-oriented helpers kept open across many requests (pic-dns-control in cell-dns, ADR 0017).
 */
export async function openExecSession(
  engine: DockerEngine,
  container: string,
  argv: string[],
): Promise<{ stdin: Writable; stdout: Readable; ended: Promise<void>; close(): void }> {
  const exec = await engine.docker.getContainer(container).exec({
    Cmd: argv,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({ hijack: true, stdin: true });
  const stdout = new PassThrough();
  engine.docker.modem.demuxStream(stream, stdout, new PassThrough().resume());
  const ended = new Promise<void>((resolve) => {
    stream.once('end', () => resolve());
    stream.once('close', () => resolve());
    stream.once('error', () => resolve());
  });
  void ended.then(() => stdout.end());
  return {
    stdin: stream as unknown as Writable,
    stdout,
    ended,
    close: () => (stream as unknown as { destroy(): void }).destroy(),
  };
}

/** Docker's multiplexed log format: 8-byte headers before each chunk. */
export function demux(buf: Buffer): string {
  const parts: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return i === 0 && buf.length ? buf.toString() : Buffer.concat(parts).toString();
}
