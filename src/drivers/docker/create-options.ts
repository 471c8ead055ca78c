// The Docker Engine create options for one container of the cell, built from its spec. A pure
// function beside the engine so the security flags every created container gets (never privileged,
// only the capabilities the spec lists, the Docker socket only where the spec asks for it) are
// checked by unit tests without an engine.
import type Docker from 'dockerode';
import { type ContainerSpec, type HealthcheckSpec, LABELS } from '../../schema/runtime.ts';

export const DOCKER_SOCKET = '/var/run/docker.sock';

export function createOptions(
  cellId: string,
  network: string,
  spec: ContainerSpec,
  hash: string,
): Docker.ContainerCreateOptions {
  const portBindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  const exposed: Record<string, object> = {};
  for (const p of spec.ports) {
    const key = `${p.container}/${p.proto}`;
    exposed[key] = {};
    portBindings[key] = [...(portBindings[key] ?? []), { HostIp: p.hostIp, HostPort: String(p.hostPort) }];
  }
  const binds = spec.binds.map((b) => `${b.host}:${b.container}${b.readOnly ? ':ro' : ''}`);
  if (spec.mountDockerSocket) binds.push(`${DOCKER_SOCKET}:${DOCKER_SOCKET}`);
  const noNetwork = spec.networkMode === 'none';
  const endpoint = spec.ip ? { IPAMConfig: { IPv4Address: spec.ip } } : {};
  return {
    name: spec.name,
    Image: spec.image,
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    ...(spec.cmd ? { Cmd: spec.cmd } : {}),
    ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
    ...(spec.user !== undefined ? { User: spec.user } : {}),
    ...(spec.healthcheck ? { Healthcheck: healthcheck(spec.healthcheck) } : {}),
    // The runtime's own labels last: a spec's extra labels can never pose as another cell's or service.
    Labels: {
      ...spec.labels,
      [LABELS.managed]: 'true',
      [LABELS.cell]: cellId,
      [LABELS.service]: spec.service,
      [LABELS.specHash]: hash,
    },
    ExposedPorts: exposed,
    HostConfig: {
      NetworkMode: noNetwork ? 'none' : network,
      PortBindings: portBindings,
      Binds: binds,
      CapAdd: spec.capAdd,
      ...(spec.capDrop ? { CapDrop: spec.capDrop } : {}),
      Devices: spec.devices.map((d) => ({ PathOnHost: d, PathInContainer: d, CgroupPermissions: 'rwm' })),
      Sysctls: spec.sysctls,
      GroupAdd: spec.groupAdd,
      Privileged: false,
      SecurityOpt: spec.noNewPrivileges ? ['no-new-privileges'] : [],
      ...(spec.readOnly ? { ReadonlyRootfs: true } : {}),
      // Swap equal to the memory: the limit is the limit, not twice it.
      ...(spec.memoryMb !== undefined
        ? { Memory: spec.memoryMb * MIB, MemorySwap: spec.memoryMb * MIB }
        : {}),
      ...(spec.ipcMode ? { IpcMode: spec.ipcMode } : {}),
      RestartPolicy: { Name: 'unless-stopped' },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '5m', 'max-file': '5' } },
    },
    ...(noNetwork ? {} : { NetworkingConfig: { EndpointsConfig: { [network]: endpoint } } }),
  };
}

const MIB = 1024 * 1024;
const NS_PER_S = 1_000_000_000;

/** Exec form (`CMD`, never `CMD-SHELL`); Docker takes durations in nanoseconds. */
function healthcheck(h: HealthcheckSpec): Docker.HealthConfig {
  return {
    Test: ['CMD', ...h.test],
    Interval: h.intervalS * NS_PER_S,
    Timeout: h.timeoutS * NS_PER_S,
    Retries: h.retries,
  };
}
