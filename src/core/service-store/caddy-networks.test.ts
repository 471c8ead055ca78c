// cell-caddy joins the installed services' networks and leaves only the store networks of its own
// cell that are no longer wanted (never the cell network, never another cell's or prefix's).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerNetworksPort } from '../ports/container-networks.ts';
import { CaddyNetworks, planCaddyNetworks } from './caddy-networks.ts';

test('plan: join the wanted, leave only this prefix’s store networks', () => {
  assert.deepEqual(
    planCaddyNetworks(
      ['t1-cell-network', 't1-cell-svc-files', 't1-cell-svc-mail', 'cell-svc-mail', 'x'],
      ['calendar', 'files'],
      't1-',
    ),
    { connect: ['t1-cell-svc-calendar'], disconnect: ['t1-cell-svc-mail'] },
  );
  assert.deepEqual(planCaddyNetworks(['cell-network'], [], ''), { connect: [], disconnect: [] });
  // With no prefix, a prefixed cell's networks are not ours either.
  assert.deepEqual(planCaddyNetworks(['cell-network', 't1-cell-svc-a', 'cell-svc-a'], [], ''), {
    connect: [],
    disconnect: ['cell-svc-a'],
  });
});

test('sync: connects and disconnects through the port; nothing when Caddy does not exist', async () => {
  const nets = new Map<string, Set<string>>([['cell-caddy', new Set(['cell-network', 'cell-svc-old'])]]);
  const calls: string[] = [];
  const port: ContainerNetworksPort = {
    networksOf: async (c) => (nets.has(c) ? [...nets.get(c)!] : undefined),
    connect: async (n, c) => {
      calls.push(`+${n}`);
      nets.get(c)!.add(n);
    },
    disconnect: async (n, c) => {
      calls.push(`-${n}`);
      nets.get(c)!.delete(n);
    },
  };
  const s = new CaddyNetworks(port, 'cell-caddy', '');
  await s.sync(['calendar']);
  assert.deepEqual(calls, ['+cell-svc-calendar', '-cell-svc-old']);
  assert.deepEqual(await s.sync(['calendar']), { connect: [], disconnect: [] });
  assert.equal(await new CaddyNetworks(port, 'gone', '').sync(['calendar']), undefined);
});
