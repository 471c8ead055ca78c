// The security flags of every container the runtime creates, read from the create options the
// driver sends to the engine for the desired state: never privileged, only the capabilities listed
// here, the Docker socket (root on the host) only in cell-api, nothing sharing the host's namespaces.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { desiredState } from '../../render/runtime/desired-state.ts';
import { defaultConfig } from '../../schema/config.ts';
import { createOptions, DOCKER_SOCKET } from './create-options.ts';

/** Each service's capabilities beyond Docker's default set; a new one must be added here on purpose. */
const CAPABILITIES: Record<string, string[]> = {
  dns: [],
  ntp: [],
  // wireguard-go's interface, its address and routes, and iptables-restore.
  wireguard: ['NET_ADMIN'],
  api: [],
  caddy: [],
};
/** The one service that may talk to the engine (it recreates containers on config apply). */
const SOCKET_HOLDERS = ['api'];
/** Services whose binary needs its file capability (Caddy binding :80): no `no-new-privileges`. */
const FILE_CAPS = ['caddy'];

const desired = desiredState({
  config: defaultConfig(),
  env: { PIC_NAME_PREFIX: 'sec-' },
  cellDir: '/opt/pic',
  dockerGid: 998,
});
const created = desired.containers.map((spec) => ({
  service: spec.service,
  opts: createOptions(desired.cellId, desired.network.name, spec, 'hash'),
}));

describe('security flags of the created containers', () => {
  test('every core service is checked', () => {
    assert.deepEqual(created.map((c) => c.service).sort(), Object.keys(CAPABILITIES).sort());
  });

  for (const { service, opts } of created) {
    const host = opts.HostConfig!;
    test(`${service}: not privileged, only the listed capabilities, no host namespace`, () => {
      assert.equal(host.Privileged, false);
      assert.deepEqual([...(host.CapAdd ?? [])].sort(), CAPABILITIES[service]);
      assert.equal(host.CapDrop, undefined, 'no capability games beyond the list');
      assert.equal(host.NetworkMode, desired.network.name, 'on the cell network, not the host network');
      for (const key of ['PidMode', 'IpcMode', 'UTSMode', 'UsernsMode', 'CgroupnsMode'] as const)
        assert.equal((host as Record<string, unknown>)[key], undefined, key);
      if (FILE_CAPS.includes(service)) assert.deepEqual(host.SecurityOpt, []);
      else assert.deepEqual(host.SecurityOpt, ['no-new-privileges']);
      for (const d of host.Devices ?? [])
        assert.equal(service === 'wireguard' && d.PathOnHost === '/dev/net/tun', true, d.PathOnHost);
    });

    test(`${service}: the Docker socket ${SOCKET_HOLDERS.includes(service) ? 'is' : 'is not'} mounted`, () => {
      const socketBinds = (host.Binds ?? []).filter((b) => b.split(':')[0] === DOCKER_SOCKET);
      const anySocket = (host.Binds ?? []).filter((b) => b.includes('docker.sock'));
      if (SOCKET_HOLDERS.includes(service)) {
        assert.deepEqual(socketBinds, [`${DOCKER_SOCKET}:${DOCKER_SOCKET}`]);
        // The socket's group, not root; and Caddy's (its admin socket and certificate directory).
        assert.deepEqual(host.GroupAdd, ['998', '970'], "the socket's group, not root");
      } else {
        assert.deepEqual(anySocket, []);
        assert.deepEqual(host.GroupAdd ?? [], []);
      }
    });
  }
});
