// The Docker Engine create options for one container of the cell, built from its spec. A pure
// function beside the engine so the security flags every created container gets (never privileged,
// only the capabilities the spec lists, the Docker socket only where the spec asks for it) are
// checked by unit tests without an engine.
import type Docker from 'dockerode';
import { type ContainerSpec, LABELS } from '../../schema/runtime.ts';

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
  return {
    name: spec.name,
    Image: spec.image,
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    ...(spec.cmd ? { Cmd: spec.cmd } : {}),
    Labels: {
      [LABELS.managed]: 'true',
      [LABELS.cell]: cellId,
      [LABELS.service]: spec.service,
      [LABELS.specHash]: hash,
    },
    ExposedPorts: exposed,
    HostConfig: {
      NetworkMode: network,
      PortBindings: portBindings,
      Binds: binds,
      CapAdd: spec.capAdd,
      Devices: spec.devices.map((d) => ({ PathOnHost: d, PathInContainer: d, CgroupPermissions: 'rwm' })),
      Sysctls: spec.sysctls,
      GroupAdd: spec.groupAdd,
      Privileged: false,
      SecurityOpt: spec.noNewPrivileges ? ['no-new-privileges'] : [],
      RestartPolicy: { Name: 'unless-stopped' },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '5m', 'max-file': '5' } },
    },
    NetworkingConfig: { EndpointsConfig: { [network]: { IPAMConfig: { IPv4Address: spec.ip } } } },
  };
}
