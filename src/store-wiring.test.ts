// The installed services wired through the cell (ADR 0023): an install (the InstalledServicesPort
// telling its listeners) re-applies the zone (the service's name at its virtual IP, NXDOMAIN in the
// views of peers not granted it) and the peers' firewall (the service grantable, DNATed and checked);
// grants of a service that is not installed are refused, and GET /api/grantable-services lists it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createCell } from './composition.ts';
import type { FirewallModel, WireguardPort } from './core/peers/wireguard-port.ts';
import type { DnsServerPort } from './core/ports/dns-server.ts';
import { SettableInstalledServices } from './core/ports/settable-installed-services.ts';
import type { CellZoneInput } from './render/unbound/cell-zone.ts';

const root = mkdtempSync(join(tmpdir(), 'pic-store-wiring-'));
after(() => rmSync(root, { recursive: true, force: true }));

const CALENDAR = {
  serviceId: 'calendar',
  subdomain: 'calendar',
  virtualIp: '172.20.0.64',
  upstream: 'cell-calendar_radicale:5232',
};

/** Resolves when `check` holds for the last value seen (applies run in the background). */
async function until<T>(what: string, last: () => T | undefined, check: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = last();
    if (v !== undefined && check(v)) return v;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never saw ${what}`);
}

test('an install reaches the zone, the views and the firewall; grants follow what is installed', async () => {
  let zone: CellZoneInput | undefined;
  let firewall: FirewallModel | undefined;
  const dns: DnsServerPort = {
    running: async () => true,
    apply: async (z) => {
      zone = z;
      return { mode: 'full' };
    },
    blockedQueries: async () => undefined,
    reset: () => undefined,
  };
  const wireguard: WireguardPort = {
    running: async () => true,
    loaded: async () => true,
    apply: async (_s, f) => {
      firewall = f;
    },
    dump: async () => undefined,
  };
  const installed = new SettableInstalledServices();
  const cell = createCell({
    dataDir: join(root, 'a'),
    dns,
    wireguard,
    installedServices: installed,
    background: false,
  });
  try {
    const { peers } = cell.deps;
    await assert.rejects(
      peers.create({ name: 'alice', services: ['dns', 'calendar'], create_account: false }),
      /Unknown service/,
    );
    await peers.create({ name: 'alice', services: ['dns', 'web'], create_account: false });
    assert.deepEqual(
      peers.grantable().map((s) => s.id),
      ['web', 'dns', 'ntp'],
    );

    installed.set([CALENDAR]);
    const z = await until(
      'calendar in the zone',
      () => zone,
      (v) => v.records.some((r) => r.name === 'calendar'),
    );
    assert.deepEqual(
      z.records.find((r) => r.name === 'calendar'),
      { name: 'calendar', type: 'A', value: '172.20.0.64', ttl: 300 },
    );
    const view = z.views.find((v) => v.label === '10.0.0.2')!;
    assert.ok(view.deny.includes('calendar'), 'alice is not granted it: NXDOMAIN');
    const f = await until(
      'calendar in the firewall',
      () => firewall,
      (v) => (v.store ?? []).length === 1,
    );
    assert.deepEqual(f.store, [
      { id: 'calendar', virtualIp: '172.20.0.64', ports: { https: 20064, http: 21064 } },
    ]);
    assert.deepEqual(peers.grantable().at(-1), { id: 'calendar', label: 'calendar', store: true });

    await peers.update('alice', { services: ['dns', 'web', 'calendar'] });
    assert.ok(
      !cell.deps.dns
        .model()
        .zone.views.find((v) => v.label === '10.0.0.2')!
        .deny.includes('calendar'),
    );

    // Uninstalled: the name goes, the grant is kept (and may be sent back unchanged), opening nothing.
    installed.set([]);
    await until(
      'calendar gone from the zone',
      () => zone,
      (v) => !v.records.some((r) => r.name === 'calendar'),
    );
    await until(
      'calendar gone from the firewall',
      () => firewall,
      (v) => v.store === undefined,
    );
    await peers.update('alice', { services: ['dns', 'web', 'calendar'] });
    assert.deepEqual(peers.get('alice').services, ['dns', 'web', 'calendar']);
  } finally {
    cell.close();
  }
});

test('email and webmail through the cell: a service with names and host ports only is grantable; the route on its name is answered at its address', async () => {
  let zone: CellZoneInput | undefined;
  let firewall: FirewallModel | undefined;
  const dns: DnsServerPort = {
    running: async () => true,
    apply: async (z) => {
      zone = z;
      return { mode: 'full' };
    },
    blockedQueries: async () => undefined,
    reset: () => undefined,
  };
  const wireguard: WireguardPort = {
    running: async () => true,
    loaded: async () => true,
    apply: async (_s, f) => {
      firewall = f;
    },
    dump: async () => undefined,
  };
  const installed = new SettableInstalledServices();
  const cell = createCell({
    dataDir: join(root, 'b'),
    dns,
    wireguard,
    installedServices: installed,
    background: false,
  });
  try {
    const { peers } = cell.deps;
    const EMAIL = {
      serviceId: 'email',
      virtualIp: '172.20.0.64',
      names: ['mail'],
      hostPorts: [
        { proto: 'tcp' as const, port: 25 },
        { proto: 'tcp' as const, port: 993 },
      ],
      hostAddress: '172.20.0.1',
    };
    const WEBMAIL = {
      serviceId: 'webmail',
      virtualIp: '172.20.0.65',
      names: [],
      hostPorts: [],
      hostAddress: '172.20.0.1',
    };
    installed.set([], [EMAIL]);
    await until(
      'email in the firewall',
      () => firewall,
      (v) => (v.store ?? []).length === 1,
    );
    assert.deepEqual(
      peers
        .grantable()
        .filter((s) => s.store)
        .map((s) => s.id),
      ['email'],
    );
    await peers.create({ name: 'alice', services: ['dns', 'email'], create_account: false });
    await peers.create({ name: 'bob', services: ['dns'], create_account: false });
    installed.set(
      [
        {
          serviceId: 'webmail',
          subdomain: 'mail',
          virtualIp: '172.20.0.65',
          address: '172.20.0.64',
          upstream: 'cell-webmail_roundcube:8080',
        },
      ],
      [EMAIL, WEBMAIL],
    );
    const f = await until(
      'webmail in the firewall',
      () => firewall,
      (v) => (v.store ?? []).length === 2,
    );
    assert.deepEqual(f.store, [
      {
        id: 'email',
        virtualIp: '172.20.0.64',
        hostPorts: EMAIL.hostPorts,
        hostAddress: '172.20.0.1',
      },
      {
        id: 'webmail',
        virtualIp: '172.20.0.65',
        ports: { https: 20065, http: 21065 },
        addresses: ['172.20.0.64'],
      },
    ]);
    const z = await until(
      'mail in the zone',
      () => zone,
      (v) => v.records.some((r) => r.name === 'mail'),
    );
    assert.deepEqual(
      z.records.filter((r) => r.name === 'mail'),
      [{ name: 'mail', type: 'A', value: '172.20.0.64', ttl: 300 }],
    );
    const deny = (a: string) => cell.deps.dns.model().zone.views.find((v) => v.label === a)!.deny;
    const alice = peers.get('alice').address;
    const bob = peers.get('bob').address;
    assert.ok(!deny(alice).includes('mail'), 'alice is granted email: mail resolves');
    assert.ok(deny(bob).includes('mail'), 'bob has neither: NXDOMAIN');
    await peers.update('bob', { services: ['dns', 'webmail'] });
    assert.ok(!deny(bob).includes('mail'), 'bob granted webmail: mail resolves');
  } finally {
    cell.close();
  }
});
