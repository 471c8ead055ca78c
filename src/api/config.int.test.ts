import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PASSWORD, authed, completeSetup, type Kit, type Login, makeKit } from './test-kit.ts';

let kit: Kit;
let admin: Login;
let token: string;
before(async () => {
  kit = await makeKit();
  token = kit.cell.deps.setup.issueToken()!;
  // completeSetup issues its own token; keep ours only to prove it appears nowhere.
  admin = await completeSetup(kit);
});
after(() => kit.close());

const get = (url = '/api/config') => kit.app.inject({ url, headers: authed(admin) });
const put = (payload: unknown) =>
  kit.app.inject({ method: 'PUT', url: '/api/config', headers: authed(admin), payload: payload as object });
const row = () => ({
  ...(kit.cell.db.prepare('SELECT current, applied, updated_at FROM config').get() ?? {}),
});
const fields = (body: { fields?: Array<{ field: string }> }) =>
  [...new Set((body.fields ?? []).map((f) => f.field))].sort();

describe('GET /api/config', () => {
  test('the whole configuration, and no secret', async () => {
    const r = await get();
    assert.equal(r.statusCode, 200);
    const cfg = r.json();
    assert.deepEqual(Object.keys(cfg).sort(), ['identity', 'image_verification', 'logging', 'network']);
    assert.equal(cfg.identity.cell_name, 'home');
    assert.equal(cfg.identity.domain, 'home.cell');
    assert.equal(cfg.identity.ip_range, '172.20.0.0/16');
    const text = r.body;
    assert.ok(!text.includes(ADMIN_PASSWORD));
    assert.ok(!text.includes(token));
    assert.ok(!text.includes('argon2'));
    const keys: string[] = [];
    const walk = (o: unknown) => {
      if (!o || typeof o !== 'object') return;
      for (const [k, v] of Object.entries(o)) {
        keys.push(k);
        walk(v);
      }
    };
    walk(cfg);
    for (const k of keys) assert.doesNotMatch(k, /password|secret|token|private|preshared|passphrase/i, k);
  });

  test('needs a session', async () => {
    assert.equal((await kit.app.inject({ url: '/api/config' })).statusCode, 401);
  });
});

describe('PUT /api/config', () => {
  test('unknown fields → 400 naming each, at any depth; nothing written', async () => {
    const before = row();
    const r = await put({
      identity: { foo: 1, timezone: 'UTC' },
      bar: true,
      network: { dns_forwarders: [], extra: 'x' },
      logging: { levels: { api: 'info', nosuchservice: 'debug' }, format: 'x' },
    });
    assert.equal(r.statusCode, 400);
    assert.deepEqual(fields(r.json()), [
      'bar',
      'identity.foo',
      'logging.format',
      'logging.levels.nosuchservice',
      'network.extra',
    ]);
    assert.deepEqual(row(), before);
  });

  test('invalid values are named, each of them; nothing written', async () => {
    const beforeRow = row();
    const beforeGet = (await get()).json();
    const r = await put({
      identity: { cell_name: 'UPPER', timezone: 'Nowhere/City', wg_port: 70000, vpn_address: '10.0.0.0/24' },
      network: { dns_forwarders: ['not-an-ip'], ntp_servers: ['$(id)'] },
      logging: { levels: { api: 'loud' } },
      image_verification: 'maybe',
    });
    assert.equal(r.statusCode, 400);
    assert.deepEqual(fields(r.json()), [
      'identity.cell_name',
      'identity.timezone',
      'identity.vpn_address',
      'identity.wg_port',
      'image_verification',
      'logging.levels.api',
      'network.dns_forwarders.0',
      'network.ntp_servers.0',
    ]);
    assert.deepEqual(row(), beforeRow);
    assert.deepEqual((await get()).json(), beforeGet);
  });

  test('wrong types are named', async () => {
    const r = await put({
      identity: { wg_port: '51820', cell_name: 5 },
      network: { dns_forwarders: '10.0.0.1' },
    });
    assert.equal(r.statusCode, 400);
    assert.deepEqual(fields(r.json()), ['identity.cell_name', 'identity.wg_port', 'network.dns_forwarders']);
  });

  test('ip_range must be RFC 1918 and aligned', async () => {
    const before = row();
    for (const ip_range of ['8.8.0.0/16', '100.64.0.0/10', '172.32.0.0/16', '172.20.0.1/16', '0.0.0.0/0']) {
      const r = await put({ identity: { ip_range } });
      assert.equal(r.statusCode, 400, ip_range);
      assert.deepEqual(fields(r.json()), ['identity.ip_range'], ip_range);
    }
    assert.deepEqual(row(), before);
  });

  test('a VPN range overlapping the cell network is refused, whichever side moves', async () => {
    const before = row();
    const a = await put({ identity: { ip_range: '10.0.0.0/16' } });
    assert.equal(a.statusCode, 400);
    assert.deepEqual(fields(a.json()), ['identity.vpn_address']);
    assert.match(a.json().fields[0].message, /overlaps/);
    const b = await put({ identity: { vpn_address: '172.20.9.1/24' } });
    assert.equal(b.statusCode, 400);
    assert.deepEqual(fields(b.json()), ['identity.vpn_address']);
    assert.deepEqual(row(), before);
  });

  test('hostile strings in every text field → 400, nothing written', async () => {
    const before = row();
    for (const h of [';id', '$(id)', '`id`', 'a\nPostUp = x', '{env.HOME}', '../../etc/passwd', '--help']) {
      for (const patch of [
        { identity: { cell_name: h } },
        { identity: { domain_mode: 'custom', domain: h } },
        { identity: { timezone: h } },
        { identity: { ip_range: h } },
        { identity: { vpn_address: h } },
        { network: { dns_forwarders: [h] } },
        { network: { ntp_servers: [h] } },
        { logging: { levels: { api: h } } },
        { image_verification: h },
      ]) {
        const r = await put(patch);
        assert.equal(r.statusCode, 400, `${JSON.stringify(patch)}`);
      }
    }
    assert.deepEqual(row(), before);
  });

  test('valid patch: merged, stored, returned with the pending state', async () => {
    const r = await put({
      network: { dns_forwarders: ['192.168.1.1'] },
      identity: { timezone: 'Asia/Kolkata' },
    });
    assert.equal(r.statusCode, 200, r.body);
    const body = r.json();
    assert.deepEqual(body.config.network.dns_forwarders, ['192.168.1.1']);
    assert.equal(body.config.identity.cell_name, 'home');
    assert.deepEqual((await get()).json(), body.config);
    assert.equal(body.pending.pending, true);
  });
});

describe('pending → apply', () => {
  test('restart fields wait; apply reports the data plane not running and clears them', async () => {
    await kit.app.inject({ method: 'POST', url: '/api/config/apply', headers: authed(admin) });
    assert.equal((await get('/api/config/pending')).json().pending, false);

    const r = await put({ identity: { wg_port: 51999, cell_name: 'renamed' } });
    assert.equal(r.statusCode, 200);
    assert.equal(r.json().config.identity.domain, 'renamed.cell');
    const p = (await get('/api/config/pending')).json();
    assert.equal(p.pending, true);
    assert.deepEqual(p.changes.map((c: { field: string }) => c.field).sort(), [
      'identity.cell_name',
      'identity.domain',
      'identity.wg_port',
    ]);
    assert.deepEqual(p.restart, ['cell-caddy', 'cell-dns', 'cell-wireguard']);
    const wg = p.changes.find((c: { field: string }) => c.field === 'identity.wg_port');
    assert.deepEqual(wg, { field: 'identity.wg_port', from: 51820, to: 51999, restart: ['cell-wireguard'] });

    const a = await kit.app.inject({ method: 'POST', url: '/api/config/apply', headers: authed(admin) });
    assert.equal(a.statusCode, 200);
    assert.equal(a.json().data_plane, 'not_running');
    assert.deepEqual(a.json().restarted, []);
    assert.equal(a.json().applied.length, 3);
    assert.deepEqual((await get('/api/config/pending')).json(), { pending: false, changes: [], restart: [] });
    // A second apply with nothing pending is a no-op.
    const again = await kit.app.inject({ method: 'POST', url: '/api/config/apply', headers: authed(admin) });
    assert.deepEqual(again.json().applied, []);
  });

  test('apply takes no body', async () => {
    const r = await kit.app.inject({
      method: 'POST',
      url: '/api/config/apply',
      headers: authed(admin),
      payload: { force: true },
    });
    assert.equal(r.statusCode, 400);
  });
});

test('a data plane that fails to apply: 503, the changes stay pending, the cause is logged, not answered', async () => {
  const failing = await makeKit(
    {},
    {
      dataPlane: {
        running: async () => true,
        applyConfig: async () => {
          throw new Error('container cell-wireguard: exit 1 (detail-7731)');
        },
      },
    },
  );
  try {
    const s = await completeSetup(failing);
    const put = await failing.app.inject({
      method: 'PUT',
      url: '/api/config',
      headers: authed(s),
      payload: { identity: { wg_port: 51111 } },
    });
    assert.equal(put.statusCode, 200);
    const r = await failing.app.inject({ method: 'POST', url: '/api/config/apply', headers: authed(s) });
    assert.equal(r.statusCode, 503);
    assert.equal(r.json().error, 'unavailable');
    assert.ok(!r.body.includes('detail-7731'));
    const p = await failing.app.inject({ url: '/api/config/pending', headers: authed(s) });
    assert.equal(p.json().pending, true);
    const log = readFileSync(join(failing.cell.paths.logs, 'api.log'), 'utf8');
    assert.ok(log.includes('detail-7731'), 'the owner finds the cause in the api log');
  } finally {
    await failing.close();
  }
});
