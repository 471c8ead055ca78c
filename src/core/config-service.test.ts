import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type CellConfig, defaultConfig } from '../schema/config.ts';
import { ConfigService, type DataPlanePort, type PendingChange } from './config-service.ts';
import { AppError } from './errors.ts';
import type { ConfigRepository } from './ports/config-repository.ts';

/** The repository as the SQLite store keeps it: JSON text, so a stored value is a copy. */
function memoryStore() {
  let saved: { current: string; applied: string } | undefined;
  const store: ConfigRepository = {
    load: () =>
      saved ? { current: JSON.parse(saved.current), applied: JSON.parse(saved.applied) } : undefined,
    save: (current, applied) => {
      saved = { current: JSON.stringify(current), applied: JSON.stringify(applied) };
    },
  };
  return { store, row: () => ({ ...saved }) as Record<string, string> };
}

function make() {
  const { store, row } = memoryStore();
  const service = new ConfigService(store);
  return { store, service, row };
}

function fieldsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.code, 'validation_failed');
    return (err.fields ?? []).map((f) => f.field);
  }
  assert.fail('expected a validation error');
}

describe('ConfigService', () => {
  test('a fresh database gets the default configuration, stored', () => {
    const { service, store } = make();
    assert.deepEqual(service.get(), defaultConfig());
    assert.deepEqual(store.load()?.current, defaultConfig());
  });

  test('get returns a copy: mutating it changes nothing', () => {
    const { service } = make();
    const c = service.get();
    c.identity.cell_name = 'mutated';
    assert.equal(service.get().identity.cell_name, 'mycell');
  });

  test('a patch merges into its section and keeps the other fields', () => {
    const { service } = make();
    const { config } = service.update({
      identity: { timezone: 'Europe/Berlin' },
      network: { dns_forwarders: ['10.9.9.9'] },
    });
    assert.equal(config.identity.timezone, 'Europe/Berlin');
    assert.equal(config.identity.cell_name, 'mycell');
    assert.deepEqual(config.network.dns_forwarders, ['10.9.9.9']);
    assert.deepEqual(config.network.ntp_servers, []);
    service.update({ logging: { levels: { api: 'debug' } } });
    assert.equal(service.get().logging.levels.api, 'debug');
    assert.equal(service.get().logging.levels.auth, 'info');
  });

  test('the domain follows the cell name and mode unless the mode is custom', () => {
    const { service } = make();
    assert.equal(service.update({ identity: { cell_name: 'home' } }).config.identity.domain, 'home.cell');
    assert.equal(
      service.update({ identity: { domain_mode: 'pic_ngo' } }).config.identity.domain,
      'home.pic.ngo',
    );
    assert.deepEqual(
      fieldsOf(() => service.update({ identity: { domain_mode: 'custom' } })),
      ['identity.domain'],
    );
    const c = service.update({ identity: { domain_mode: 'custom', domain: 'cell.example.org' } }).config;
    assert.equal(c.identity.domain, 'cell.example.org');
    assert.equal(
      service.update({ identity: { cell_name: 'other' } }).config.identity.domain,
      'cell.example.org',
    );
    assert.equal(service.update({ identity: { domain_mode: 'local' } }).config.identity.domain, 'other.cell');
  });

  test('restart fields wait as pending until apply; live fields apply at once', async () => {
    const { service, store } = make();
    assert.deepEqual(service.pending(), { pending: false, changes: [], restart: [] });
    service.update({ identity: { wg_port: 51821 }, logging: { levels: { dns: 'warn' } } });
    const p = service.pending();
    assert.equal(p.pending, true);
    assert.deepEqual(p.changes, [
      { field: 'identity.wg_port', from: 51820, to: 51821, restart: ['cell-wireguard'] },
    ]);
    assert.deepEqual(p.restart, ['cell-wireguard']);
    const saved = store.load() as { current: CellConfig; applied: CellConfig };
    assert.equal(saved.current.identity.wg_port, 51821);
    assert.equal(saved.applied.identity.wg_port, 51820, 'applied keeps the running value');
    assert.equal(saved.applied.logging.levels.dns, 'warn', 'log levels are live');

    const calls: PendingChange[][] = [];
    const down: DataPlanePort = { running: async () => false, applyConfig: async () => ({ restarted: [] }) };
    const r = await service.apply(down);
    assert.equal(r.data_plane, 'not_running');
    assert.deepEqual(r.restarted, []);
    assert.equal(r.applied.length, 1);
    assert.equal(service.pending().pending, false);
    assert.equal((store.load() as { applied: CellConfig }).applied.identity.wg_port, 51821);

    service.update({ identity: { timezone: 'Europe/Paris' } });
    const up: DataPlanePort = {
      running: async () => true,
      applyConfig: async (_c, changes) => {
        calls.push(changes);
        return { restarted: ['cell-ntp'] };
      },
    };
    const r2 = await service.apply(up);
    assert.equal(r2.data_plane, 'running');
    assert.deepEqual(r2.restarted, ['cell-ntp']);
    assert.equal(calls[0]?.[0]?.field, 'identity.timezone');
  });

  test('changing a value back clears its pending change', () => {
    const { service } = make();
    service.update({ identity: { wg_port: 51000 } });
    service.update({ identity: { wg_port: 51820 } });
    assert.equal(service.pending().pending, false);
  });

  test('invalid values are named and nothing is stored', () => {
    const { service, row } = make();
    const before = row();
    const cases: Array<[Parameters<ConfigService['update']>[0], string[]]> = [
      [{ identity: { ip_range: '8.8.0.0/16' } }, ['identity.ip_range']],
      [{ identity: { ip_range: '10.0.0.0/16' } }, ['identity.vpn_address']], // overlaps the VPN
      [{ identity: { vpn_address: '172.20.5.1/24' } }, ['identity.vpn_address']],
      [{ identity: { timezone: 'Mars/Base' } }, ['identity.timezone']],
      [{ identity: { cell_name: 'Bad Name' } }, ['identity.cell_name', 'identity.domain']],
    ];
    for (const [patch, want] of cases) {
      const got = fieldsOf(() => service.update(patch as never));
      for (const f of want.slice(0, 1)) assert.ok(got.includes(f), `${JSON.stringify(patch)} → ${got}`);
      assert.deepEqual(row(), before, `${JSON.stringify(patch)} wrote nothing`);
      assert.deepEqual(service.get(), defaultConfig());
    }
  });

  test('listeners hear committed changes only', () => {
    const { service } = make();
    const heard: string[] = [];
    service.onChange((c) => heard.push(c.logging.levels.api));
    service.update({ logging: { levels: { api: 'debug' } } });
    assert.throws(() => service.update({ identity: { ip_range: 'x' } as never }));
    assert.deepEqual(heard, ['debug']);
  });

  test('a second service on the same database loads what the first stored', () => {
    const { service, store } = make();
    service.update({ identity: { cell_name: 'persisted', wg_port: 40000 } });
    const again = new ConfigService(store);
    assert.equal(again.get().identity.cell_name, 'persisted');
    assert.equal(again.pending().pending, true);
  });

  test('withIdentity validates the wizard identity without storing it', () => {
    const { service, row } = make();
    const before = row();
    const next = service.withIdentity({
      token: 't',
      cell_name: 'home',
      domain_mode: 'pic_ngo',
      timezone: 'Europe/Berlin',
      admin_password: 'x'.repeat(12),
      services: [],
    });
    assert.equal(next.identity.domain, 'home.pic.ngo');
    assert.deepEqual(row(), before);
    service.replaceAll(next);
    assert.equal(service.pending().pending, false, 'the first configuration is applied as a whole');
  });
});

test('outside custom mode an explicit domain must be the derived one', () => {
  const { service, row } = make();
  const before = row();
  assert.deepEqual(
    fieldsOf(() => service.update({ identity: { domain: 'evil.example.com' } })),
    ['identity.domain'],
  );
  assert.deepEqual(row(), before);
  assert.equal(service.update({ identity: { domain: 'mycell.cell' } }).config.identity.domain, 'mycell.cell');
});

test('a change stored while the data plane applies stays pending; applies run one at a time', async () => {
  const { service } = make();
  service.update({ identity: { wg_port: 50001 } });
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const seen: number[] = [];
  let active = 0;
  let maxActive = 0;
  const slow: DataPlanePort = {
    running: async () => true,
    applyConfig: async (c) => {
      active++;
      maxActive = Math.max(maxActive, active);
      seen.push(c.identity.wg_port);
      await gate;
      active--;
      return { restarted: ['cell-wireguard'] };
    },
  };
  const first = service.apply(slow);
  await new Promise((r) => setImmediate(r));
  service.update({ identity: { wg_port: 50002 } }); // lands mid-apply
  const second = service.apply(slow);
  await new Promise((r) => setImmediate(r));
  assert.equal(maxActive, 1, 'the second apply waits for the first');
  release();
  const r1 = await first;
  assert.deepEqual(
    r1.applied.map((c) => c.to),
    [50001],
  );
  const r2 = await second;
  assert.deepEqual(
    r2.applied.map((c) => c.to),
    [50002],
    'the mid-apply change was still pending',
  );
  assert.deepEqual(seen, [50001, 50002]);
  assert.equal(service.pending().pending, false);
});

test('a failing apply leaves the changes pending and does not block the next one', async () => {
  const { service } = make();
  service.update({ identity: { wg_port: 50003 } });
  const broken: DataPlanePort = {
    running: async () => true,
    applyConfig: async () => {
      throw new Error('docker said no');
    },
  };
  await assert.rejects(service.apply(broken), (e: unknown) => {
    assert.ok(e instanceof AppError);
    assert.equal(e.code, 'unavailable');
    assert.equal((e.cause as Error).message, 'docker said no');
    return true;
  });
  assert.equal(service.pending().pending, true);
  const down: DataPlanePort = { running: async () => false, applyConfig: async () => ({ restarted: [] }) };
  assert.equal((await service.apply(down)).data_plane, 'not_running');
  assert.equal(service.pending().pending, false);
});

test('a domain change reaches what follows the applied config (the DNS zone) at the apply, not at the PUT', async () => {
  const { service } = make();
  const seen: string[] = [];
  service.onApplied((c) => seen.push(c.identity.domain));
  service.update({ identity: { domain_mode: 'custom', domain: 'home.example.org' } });
  assert.equal(
    service.applied().identity.domain,
    defaultConfig().identity.domain,
    'pending: the applied domain stays',
  );
  assert.deepEqual(seen, []);
  const broken: DataPlanePort = {
    running: async () => true,
    applyConfig: async () => {
      throw new Error('docker said no');
    },
  };
  await assert.rejects(service.apply(broken));
  assert.deepEqual(seen, [], 'a failed apply tells no one');
  const up: DataPlanePort = { running: async () => true, applyConfig: async () => ({ restarted: [] }) };
  await service.apply(up);
  assert.deepEqual(seen, ['home.example.org']);
});

test("a typed refusal from the data plane (Caddy's reason) is answered; the changes stay pending", async () => {
  const { service } = make();
  service.update({ identity: { wg_port: 50004 } });
  const refusing: DataPlanePort = {
    running: async () => true,
    applyConfig: async () => {
      throw new AppError(
        'unavailable',
        'Caddy refused the new configuration and keeps the old one: bad route',
      );
    },
  };
  await assert.rejects(service.apply(refusing), (e: unknown) => {
    assert.ok(e instanceof AppError);
    assert.equal(e.code, 'unavailable');
    assert.match(e.message, /they stay pending: Caddy refused .*bad route$/);
    return true;
  });
  assert.equal(service.pending().pending, true);
});
