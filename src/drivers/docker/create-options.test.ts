// The security flags of every container the runtime creates, read from the create options the
// driver sends to the engine for the desired state: never privileged, only the capabilities listed
// here, the Docker socket (root on the host) only in cell-api, nothing sharing the host's namespaces.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { desiredState } from '../../render/runtime/desired-state.ts';
import { renderServiceContainers } from '../../render/store/service-containers.ts';
import { defaultConfig } from '../../schema/config.ts';
import { LABELS } from '../../schema/runtime.ts';
import { loadBuiltinCatalog } from '../catalog/builtin-catalog.ts';
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

// The built-in store services, as the store will create them: the flags come from the manifest only
// through the renderer, and what no manifest can change is checked here on the engine's own terms.
const catalog = await loadBuiltinCatalog();

describe('security flags of the created store containers', () => {
  test('the built-in catalog has services to check', () => {
    assert.deepEqual(
      catalog.map((e) => e.manifest.id),
      ['calendar', 'email', 'files', 'webmail'],
    );
  });

  for (const { manifest } of catalog) {
    const r = renderServiceContainers(manifest, {
      cellDir: '/opt/pic',
      prefix: 'sec-',
      bindAddress: '0.0.0.0',
      domain: 'home.cell',
      builtImages: {},
    });
    for (const [i, spec] of r.containers.entries()) {
      const declared = manifest.containers[i]!;
      const opts = createOptions('cell1', r.network, spec, 'hash');
      const host = opts.HostConfig!;
      const at = `${manifest.id}/${declared.name}`;

      test(`${at}: all capabilities dropped, the manifest's added, not privileged, no host namespace`, () => {
        assert.equal(host.Privileged, false);
        assert.deepEqual(host.CapDrop, ['ALL']);
        assert.deepEqual(host.CapAdd, declared.capabilities ?? []);
        assert.deepEqual(host.SecurityOpt, ['no-new-privileges']);
        for (const key of ['PidMode', 'UTSMode', 'UsernsMode', 'CgroupnsMode'] as const)
          assert.equal((host as Record<string, unknown>)[key], undefined, key);
        assert.equal(host.IpcMode, declared.ipc_mode);
        assert.deepEqual(host.Devices, []);
      });

      test(`${at}: its own network, no address of the cell network, no Docker socket`, () => {
        assert.equal(host.NetworkMode, `sec-cell-svc-${manifest.id}`);
        assert.deepEqual(opts.NetworkingConfig, { EndpointsConfig: { [r.network]: {} } });
        assert.ok(!JSON.stringify(opts).includes('docker.sock'));
        for (const b of host.Binds ?? [])
          assert.match(b, new RegExp(`^/opt/pic/data/services/${manifest.id}/[a-z0-9-]+:/[^:]+$`), b);
        assert.deepEqual(host.GroupAdd, []);
      });

      test(`${at}: memory, read-only root, user, health check and labels from the manifest`, () => {
        const mib = (declared.memory_limit_mb ?? 0) * 1024 * 1024;
        assert.equal(host.Memory, mib || undefined);
        assert.equal(host.MemorySwap, mib || undefined, 'no swap beyond the limit');
        assert.equal(host.ReadonlyRootfs, declared.read_only || undefined);
        assert.equal(opts.User, declared.user);
        const hc = declared.healthcheck;
        assert.deepEqual(
          opts.Healthcheck,
          hc && {
            Test: ['CMD', ...hc.test],
            Interval: hc.interval_s * 1e9,
            Timeout: hc.timeout_s * 1e9,
            Retries: hc.retries,
          },
        );
        assert.equal(opts.Labels?.[LABELS.storeId], manifest.id);
        assert.equal(opts.Labels?.[LABELS.service], `${manifest.id}_${declared.name}`);
        assert.equal(opts.Labels?.[LABELS.cell], 'cell1');
      });
    }
  }

  test("a spec's own labels never replace the runtime's", () => {
    const [spec] = renderServiceContainers(catalog[0]!.manifest, {
      cellDir: '/opt/pic',
      prefix: '',
      bindAddress: '0.0.0.0',
      domain: 'home.cell',
    }).containers;
    const opts = createOptions(
      'cell1',
      'net',
      { ...spec!, labels: { [LABELS.cell]: 'other', [LABELS.managed]: 'x' } },
      'h',
    );
    assert.equal(opts.Labels?.[LABELS.cell], 'cell1');
    assert.equal(opts.Labels?.[LABELS.managed], 'true');
  });

  test('network_mode none: no network, no endpoint', () => {
    const m = {
      ...catalog[0]!.manifest,
      containers: [{ ...catalog[0]!.manifest.containers[0]!, network_mode: 'none' }],
    };
    const [spec] = renderServiceContainers(m, {
      cellDir: '/opt/pic',
      prefix: '',
      bindAddress: '0.0.0.0',
      domain: 'home.cell',
    }).containers;
    const opts = createOptions('cell1', 'net', spec!, 'h');
    assert.equal(opts.HostConfig?.NetworkMode, 'none');
    assert.equal(opts.NetworkingConfig, undefined);
  });
});
