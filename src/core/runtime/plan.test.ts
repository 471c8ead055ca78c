import assert from 'node:assert/strict';
import { describe as group, test } from 'node:test';
import { desiredState } from '../../render/runtime/desired-state.ts';
import { specHash } from '../../render/runtime/spec-hash.ts';
import { defaultConfig } from '../../schema/config.ts';
import { type DesiredState, parseEnvFile } from '../../schema/runtime.ts';
import { type Observed, plan } from './plan.ts';

const desired: DesiredState = desiredState({
  config: defaultConfig(),
  env: {},
  cellDir: '/opt/pic',
  dockerGid: 998,
});
const hashes = Object.fromEntries(desired.containers.map((c) => [c.service, specHash(c, 'sha256:img')]));
const running = (): Observed => ({
  network: { id: 'net1', subnet: desired.network.subnet },
  containers: desired.containers.map((c) => ({
    id: `id-${c.service}`,
    name: c.name,
    service: c.service,
    specHash: hashes[c.service]!,
    running: true,
  })),
});

group('plan(desired, observed)', () => {
  test('an empty engine: the network, then every container in start order', () => {
    const actions = plan({ desired, hashes, observed: { network: undefined, containers: [] } });
    assert.deepEqual(
      actions.map((a) => (a.kind === 'create' ? a.spec.service : a.kind)),
      ['create-network', 'dns', 'ntp', 'wireguard', 'api', 'caddy'],
    );
  });

  test('nothing changed: nothing to do', () => {
    assert.deepEqual(plan({ desired, hashes, observed: running() }), []);
  });

  test("a store service's containers are the store's: never removed as no longer part of the cell", () => {
    const observed = running();
    observed.containers.push({
      id: 'id-cal',
      name: 'cell-calendar_radicale',
      service: 'calendar_radicale',
      specHash: 'x',
      running: true,
    });
    assert.deepEqual(plan({ desired, hashes, observed }), []);
  });

  test('a changed definition or image recreates only that container', () => {
    const actions = plan({ desired, hashes: { ...hashes, ntp: 'different' }, observed: running() });
    assert.deepEqual(
      actions.map(
        (a) => `${a.kind}:${a.kind === 'create' ? a.spec.service : a.kind === 'remove' ? a.name : ''}`,
      ),
      ['remove:cell-ntp', 'create:ntp'],
    );
  });

  test('a stopped container is started, not recreated', () => {
    const observed = running();
    observed.containers[0]!.running = false;
    assert.deepEqual(plan({ desired, hashes, observed }), [
      { kind: 'start', id: 'id-dns', name: 'cell-dns' },
    ]);
  });

  test('a container of this cell that is no longer desired is removed; duplicates too', () => {
    const observed = running();
    observed.containers.push({ id: 'old', name: 'cell-dhcp', service: 'dhcp', specHash: 'x', running: true });
    observed.containers.push({
      id: 'dup',
      name: 'cell-dns-2',
      service: 'dns',
      specHash: hashes.dns!,
      running: true,
    });
    const actions = plan({ desired, hashes, observed });
    assert.deepEqual(
      actions
        .filter((a) => a.kind === 'remove')
        .map((a) => (a.kind === 'remove' ? a.id : ''))
        .sort(),
      ['dup', 'old'],
    );
    assert.equal(actions.filter((a) => a.kind === 'create').length, 0);
  });

  test('kept services are never touched: cell-api applying a change leaves itself alone', () => {
    const actions = plan({
      desired,
      hashes: { ...hashes, api: 'different', ntp: 'different' },
      observed: running(),
      keep: ['api'],
    });
    assert.deepEqual(
      actions.map((a) =>
        a.kind === 'create' ? `create:${a.spec.service}` : a.kind === 'remove' ? `remove:${a.name}` : a.kind,
      ),
      ['remove:cell-ntp', 'create:ntp'],
    );
    const stopped = running();
    stopped.containers.find((c) => c.service === 'api')!.running = false;
    assert.deepEqual(plan({ desired, hashes, observed: stopped, keep: ['api'] }), []);
  });

  test('a new subnet recreates the network and every container, removals first', () => {
    const moved = desiredState({
      config: defaultConfig(),
      env: parseEnvFile('CELL_NETWORK=10.99.0.0/16'),
      cellDir: '/opt/pic',
      dockerGid: 998,
    });
    const movedHashes = Object.fromEntries(
      moved.containers.map((c) => [c.service, specHash(c, 'sha256:img')]),
    );
    const actions = plan({ desired: moved, hashes: movedHashes, observed: running() });
    const kinds = actions.map((a) => a.kind);
    assert.equal(kinds.filter((k) => k === 'remove').length, 5);
    assert.ok(kinds.indexOf('remove-network') > kinds.lastIndexOf('remove'));
    assert.ok(kinds.indexOf('create-network') < kinds.indexOf('create'));
    assert.equal(kinds.filter((k) => k === 'create').length, 5);
  });
});
