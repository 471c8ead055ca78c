// The DNS records API through inject() on a real temp cell whose resolver is a real Unbound started on
// loopback (the driver runs unbound-control locally): records answer as soon as POST returns, peers'
// names and per-peer views follow peer changes, and every refusal names its field and changes nothing.
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { authed, completeSetup, type Kit, type Login, login, makeKit } from '../../api/test-kit.ts';
import { SettableInstalledServices } from '../../core/ports/settable-installed-services.ts';
import { HOSTILE_STRINGS } from '../../schema/hostile.ts';
import { vpnAddressOnCell } from '../../schema/vpn-sources.ts';
import { localExec, type UnboundControl } from './unbound-control.ts';
import { startControlled, type TestUnbound } from './unbound-kit.ts';

let kit: Kit;
let admin: Login;
let ub: TestUnbound;
const ZONE = 'home.cell';
const installed = new SettableInstalledServices();

before(async () => {
  let dns: UnboundControl;
  ({ ub, dns } = await startControlled({ exec: localExec }));
  kit = await makeKit({}, { dns, installedServices: installed });
  admin = await completeSetup(kit);
});
after(async () => {
  await kit?.close();
  await ub?.stop();
});

const post = (payload: unknown, s: Login = admin) =>
  kit.app.inject({ method: 'POST', url: '/api/dns/records', payload: payload as object, headers: authed(s) });
const list = (s: Login = admin) => kit.app.inject({ url: '/api/dns/records', headers: authed(s) });
const del = (id: number | string, s: Login = admin) =>
  kit.app.inject({ method: 'DELETE', url: `/api/dns/records/${id}`, headers: authed(s) });
const rows = () => kit.cell.db.prepare('SELECT * FROM dns_records ORDER BY id').all();
const resolver = () => {
  const r = new Resolver({ timeout: 2000, tries: 1 });
  r.setServers([`127.0.0.1:${ub.port}`]);
  return r;
};
const a = (name: string) => resolver().resolve4(name === '@' ? ZONE : `${name}.${ZONE}`);
const isNx = (name: string) =>
  assert.rejects(a(name), (e: NodeJS.ErrnoException) => e.code === 'ENOTFOUND', name);
const viewZones = async (address: string) =>
  (await localExec(['unbound-control', '-c', ub.conf, 'view_list_local_zones', `peer-${address}`])).stdout;

describe('DNS records API', () => {
  test('the cell name and its services resolve once cell-api applied the zone', async () => {
    await kit.cell.deps.dns.apply();
    assert.deepEqual(await a('@'), ['172.20.0.2']);
    assert.deepEqual(await a('web'), ['172.20.0.2']);
    assert.deepEqual(await a('ntp'), ['172.20.0.4']);
    assert.match(readFileSync(join(ub.includeDir, 'zone.conf'), 'utf8'), /local-zone: "home\.cell\." static/);
  });

  test('add, list and delete records; each answers live', async () => {
    const r = await post({ name: 'nas', type: 'A', value: '192.168.1.20', ttl: 120 });
    assert.equal(r.statusCode, 201, r.body);
    const rec = r.json();
    assert.deepEqual(rec, { id: rec.id, name: 'nas', type: 'A', value: '192.168.1.20', ttl: 120 });
    assert.deepEqual(await a('nas'), ['192.168.1.20']);

    const abs = await post({ name: 'Files.Home.Cell.', type: 'CNAME', value: 'nas.home.cell.' });
    assert.equal(abs.statusCode, 201, abs.body);
    assert.equal(abs.json().name, 'files');
    assert.deepEqual(await resolver().resolveCname(`files.${ZONE}`), ['nas.home.cell']);
    assert.equal((await post({ name: '@', type: 'MX', value: '10 mail.example.org' })).statusCode, 201);
    assert.equal((await post({ name: '@', type: 'TXT', value: 'v=spf1 mx -all' })).statusCode, 201);
    assert.deepEqual((await resolver().resolveTxt(ZONE)).flat(), ['v=spf1 mx -all']);

    const all = list();
    assert.deepEqual(
      (await all).json().map((x: { name: string; type: string }) => `${x.name} ${x.type}`),
      ['nas A', 'files CNAME', '@ MX', '@ TXT'],
    );
    const gone = await del(rec.id);
    assert.equal(gone.statusCode, 204);
    assert.equal(gone.body, '');
    await isNx('nas');
    assert.equal((await del(rec.id)).statusCode, 404);
    assert.deepEqual(await a('@'), ['172.20.0.2'], 'the apex keeps its A beside MX and TXT');
  });

  test('refusals name their field and change nothing', async () => {
    await post({ name: 'www', type: 'A', value: '192.0.2.1' });
    await post({ name: 'alias', type: 'CNAME', value: 'www.home.cell' });
    const before = rows();
    const cases: Array<[unknown, number, string]> = [
      [{ name: 'www', type: 'A', value: '192.0.2.1' }, 409, 'value'],
      [{ name: 'www', type: 'CNAME', value: 'x.example.org' }, 409, 'type'],
      [{ name: 'alias', type: 'TXT', value: 'x' }, 409, 'name'],
      [{ name: '@', type: 'A', value: '192.0.2.1' }, 409, 'name'],
      [{ name: 'web', type: 'A', value: '192.0.2.1' }, 409, 'name'],
      [{ name: 'www.example.org.', type: 'A', value: '192.0.2.1' }, 400, 'name'],
      [{ name: 'a..b', type: 'A', value: '192.0.2.1' }, 400, 'name'],
      [{ name: 'x', type: 'A', value: '10.0.0.300' }, 400, 'value'],
      [{ name: 'x', type: 'MX', value: 'mail.example.org' }, 400, 'value'],
      [{ name: 'x', type: 'SRV', value: '1 2 mail.example.org' }, 400, 'value'],
      [{ name: 'x', type: 'TXT', value: 'a"\nlocal-zone: "evil." static' }, 400, 'value'],
      [{ name: 'x', type: 'NS', value: 'ns.example.org' }, 400, 'type'],
      [{ name: 'x', type: 'A', value: '192.0.2.1', ttl: 'long' }, 400, 'ttl'],
    ];
    for (const h of HOSTILE_STRINGS) cases.push([{ name: h, type: 'A', value: '192.0.2.9' }, 400, 'name']);
    for (const [body, status, field] of cases) {
      const r = await post(body);
      assert.equal(r.statusCode, status, `${JSON.stringify(body)}: ${r.body}`);
      assert.ok(
        r.json().fields?.some((f: { field: string }) => f.field === field),
        `${JSON.stringify(body)} names ${field}: ${r.body}`,
      );
    }
    assert.equal((await del('abc')).statusCode, 400);
    assert.deepEqual(rows(), before);
    assert.doesNotMatch(readFileSync(join(ub.includeDir, 'zone.conf'), 'utf8'), /evil/);
  });

  test("peers' names and views follow peer changes; a record may not take a peer's name", async () => {
    const p = await kit.app.inject({
      method: 'POST',
      url: '/api/peers?qr=false',
      payload: { name: 'phone', services: ['dns', 'web'], create_account: false },
      headers: authed(admin),
    });
    assert.equal(p.statusCode, 201, p.body);
    const address = p.json().peer.address;
    assert.deepEqual(await a('phone'), [address]);
    // The view is named by the VPN address; it matches the peer's mapped source (ADR 0015).
    assert.match(
      readFileSync(join(ub.includeDir, 'zone.conf'), 'utf8'),
      new RegExp(
        `access-control-view: ${vpnAddressOnCell(address, '172.20.0.0/16', '10.0.0.0/24').replaceAll('.', '\\.')}/32 "peer-${address.replaceAll('.', '\\.')}"`,
      ),
    );
    assert.match(await viewZones(address), /^ntp\.home\.cell\. always_nxdomain$/m);
    assert.doesNotMatch(await viewZones(address), /web\.home\.cell/);

    const r = await post({ name: 'phone', type: 'TXT', value: 'mine' });
    assert.equal(r.statusCode, 409);
    assert.equal(r.json().fields[0].field, 'name');

    const up = await kit.app.inject({
      method: 'PUT',
      url: '/api/peers/phone',
      payload: { services: ['dns', 'ntp'] },
      headers: authed(admin),
    });
    assert.equal(up.statusCode, 200, up.body);
    assert.match(await viewZones(address), /^web\.home\.cell\. always_nxdomain$/m);
    assert.doesNotMatch(await viewZones(address), /ntp\.home\.cell/);

    const off = await kit.app.inject({
      method: 'PUT',
      url: '/api/peers/phone',
      payload: { enabled: false },
      headers: authed(admin),
    });
    assert.equal(off.statusCode, 200);
    await isNx('phone');
    await kit.app.inject({ method: 'DELETE', url: '/api/peers/phone', headers: authed(admin) });
    await isNx('phone');
    assert.equal((await viewZones(address)).trim(), '');
  });

  test("an installed store service's name answers live at its virtual IP; peers not granted it get NXDOMAIN", async () => {
    const p = await kit.app.inject({
      method: 'POST',
      url: '/api/peers?qr=false',
      payload: { name: 'watch', services: ['dns'], create_account: false },
      headers: authed(admin),
    });
    const address = p.json().peer.address;
    await isNx('calendar');
    installed.set([
      {
        serviceId: 'calendar',
        subdomain: 'calendar',
        virtualIp: '172.20.0.64',
        upstream: 'cell-calendar_radicale:5232',
      },
    ]);
    // The change applies in the background (onChange): wait on the answer itself.
    const deadline = Date.now() + 5000;
    while (!(await a('calendar').catch(() => undefined))) {
      if (Date.now() > deadline) throw new Error('calendar never answered');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(await a('calendar'), ['172.20.0.64']);
    await kit.cell.deps.dns.apply();
    assert.match(await viewZones(address), /^calendar\.home\.cell\. always_nxdomain$/m);
    const granted = await kit.app.inject({
      method: 'PUT',
      url: '/api/peers/watch',
      payload: { services: ['dns', 'calendar'] },
      headers: authed(admin),
    });
    assert.equal(granted.statusCode, 200, granted.body);
    assert.doesNotMatch(await viewZones(address), /calendar/);
    installed.set([]);
    await kit.cell.deps.dns.apply();
    await isNx('calendar');
    await kit.app.inject({ method: 'DELETE', url: '/api/peers/watch', headers: authed(admin) });
  });

  test('admin only: a peer session gets 403 on every DNS route', async () => {
    const p = await kit.app.inject({
      method: 'POST',
      url: '/api/peers?qr=false',
      payload: { name: 'tablet', password: 'tablet password 123' },
      headers: authed(admin),
    });
    assert.equal(p.statusCode, 201, p.body);
    const peer = await login(kit.app, 'tablet', 'tablet password 123');
    assert.equal((await list(peer)).statusCode, 403);
    assert.equal((await post({ name: 'x', type: 'A', value: '192.0.2.1' }, peer)).statusCode, 403);
    assert.equal((await del(1, peer)).statusCode, 403);
    const anon = await kit.app.inject({ url: '/api/dns/records' });
    assert.equal(anon.statusCode, 401);
  });
});
