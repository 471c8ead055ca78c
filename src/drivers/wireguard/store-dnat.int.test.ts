// A store service's virtual IP answers only to peers granted it (ADR 0023), with the real kernel: the
// rendered firewall document loaded by iptables-restore in a namespace playing cell-wireguard, a "peer"
// namespace on a veth named wg0 (the firewall matches the tunnel by name; WireGuard itself is proven by
// netns.int.test.ts), and a "cell" namespace whose Caddy address answers on 443 and on the service's
// front port. The granted peer reaches <virtual IP>:443; a peer granted only `web` does not (neither at
// the virtual IP nor at Caddy's front port directly), and the granted one cannot skip the virtual IP.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NO_PIC_STATE, renderFirewall } from '../../render/firewall/peer-rules.ts';
import { storeFrontPorts } from '../../schema/store-sites.ts';
import { canRunNetns, must, Netns, tag } from './netns-kit.ts';

const skip = canRunNetns();
const CELL = '172.20.0.0/16';
const VIP = '172.20.0.64';
const ports = storeFrontPorts(CELL, VIP);

describe('store virtual IPs through the per-peer firewall (DNAT + ctorigdst)', { skip }, () => {
  const t = tag();
  const ns: Record<'peer' | 'srv' | 'cell', Netns> = {} as never;

  async function veth(a: Netns, aName: string, b: Netns, bName: string): Promise<void> {
    const x = `x${tag()}`;
    const y = `y${tag()}`;
    await must(['ip', 'link', 'add', x, 'type', 'veth', 'peer', 'name', y]);
    await must(['ip', 'link', 'set', x, 'netns', a.name]);
    await must(['ip', 'link', 'set', y, 'netns', b.name]);
    await a.must(['ip', 'link', 'set', x, 'name', aName]);
    await b.must(['ip', 'link', 'set', y, 'name', bName]);
    await a.must(['ip', 'link', 'set', aName, 'up']);
    await b.must(['ip', 'link', 'set', bName, 'up']);
  }

  /** The HTTP status from the peer namespace, sent from `source` (000: no answer). */
  const get = async (source: string, url: string) =>
    (
      await ns.peer.run([
        'curl',
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '--interface',
        source,
        '--max-time',
        '2',
        url,
      ])
    ).stdout;

  before(async () => {
    for (const k of ['peer', 'srv', 'cell'] as const) ns[k] = await Netns.create(`pic-sv${k[0]}-${t}`);
    await veth(ns.peer, 'tun0', ns.srv, 'wg0');
    await veth(ns.srv, 'eth0', ns.cell, 'eth0');
    for (const a of ['10.0.0.2/24', '10.0.0.3/24'])
      await ns.peer.must(['ip', 'address', 'add', a, 'dev', 'tun0']);
    await ns.peer.must(['ip', 'route', 'add', CELL, 'dev', 'tun0', 'via', '10.0.0.1']);
    await ns.srv.must(['ip', 'address', 'add', '10.0.0.1/24', 'dev', 'wg0']);
    await ns.srv.must(['ip', 'address', 'add', '172.20.0.5/16', 'dev', 'eth0']);
    await ns.srv.must(['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    await ns.cell.must(['ip', 'address', 'add', '172.20.0.2/16', 'dev', 'eth0']);
    await ns.cell.must(['ip', 'route', 'add', '10.0.0.0/24', 'via', '172.20.0.5']);
    // "Caddy": one tiny HTTP server answering on 443 and on the calendar's front port.
    ns.cell.spawn([
      process.execPath,
      '-e',
      `const h=require('node:http');for(const p of [443,${ports.https}])h.createServer((q,r)=>r.end(String(p))).listen(p,'172.20.0.2')`,
    ]);
    const deadline = Date.now() + 10_000;
    while (!(await ns.cell.run(['ss', '-ltn'])).stdout.includes(`:${ports.https}`)) {
      if (Date.now() > deadline) throw new Error('the test server did not listen');
      await new Promise((r) => setTimeout(r, 50));
    }
    const doc = renderFirewall({
      iface: 'wg0',
      outIface: 'eth0',
      vpnAddress: '10.0.0.1/24',
      cellNetwork: CELL,
      store: [{ id: 'calendar', virtualIp: VIP, ports }],
      peers: [
        {
          name: 'granted',
          address: '10.0.0.2',
          services: ['calendar'],
          internet: false,
          peer_to_peer: false,
        },
        { name: 'webonly', address: '10.0.0.3', services: ['web'], internet: false, peer_to_peer: false },
      ],
      present: NO_PIC_STATE,
    }).output;
    await ns.srv.must(['iptables-restore', '--noflush'], doc);
  });

  after(async () => {
    for (const k of ['peer', 'srv', 'cell'] as const) await ns[k]?.destroy();
  });

  test('the granted peer reaches the service at its virtual IP (DNATed to its front port)', async () => {
    assert.equal(await get('10.0.0.2', `http://${VIP}:443/`), '200');
    const body = await ns.peer.run([
      'curl',
      '-s',
      '--interface',
      '10.0.0.2',
      '--max-time',
      '2',
      `http://${VIP}:443/`,
    ]);
    assert.equal(body.stdout, String(ports.https), "Caddy's port for this service, not the front door's");
  });

  test('a peer granted only the front door gets neither the virtual IP nor the front port', async () => {
    assert.equal(await get('10.0.0.3', `http://172.20.0.2:443/`), '200', 'web itself still works');
    assert.equal(await get('10.0.0.3', `http://${VIP}:443/`), '000');
    assert.equal(await get('10.0.0.3', `http://172.20.0.2:${ports.https}/`), '000');
  });

  test('the granted peer cannot skip the virtual IP, nor reach the front door it was not granted', async () => {
    assert.equal(await get('10.0.0.2', `http://172.20.0.2:${ports.https}/`), '000');
    assert.equal(await get('10.0.0.2', `http://172.20.0.2:443/`), '000');
  });
});
