// A store service's host ports over the VPN (issue 13), with the real kernel: the rendered firewall
// document loaded by iptables-restore in a namespace playing cell-wireguard, a "peer" namespace on a
// veth named wg0 (as store-dnat.int.test.ts), and a "cell" namespace holding the cell network's
// gateway (the host, where Docker publishes the service's ports: a listener on 2525 plays it) and
// Caddy's address. email (names and host ports only) is DNATed at its virtual IP to the gateway's
// port; webmail's route on email's name is answered at email's virtual IP on webmail's front port.
// A granted peer reaches the host port through the virtual IP only; a peer not granted email gets
// nothing there, nor at the gateway; HTTPS at email's address is webmail's alone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NO_PIC_STATE, renderFirewall } from '../../render/firewall/peer-rules.ts';
import { storeFrontPorts, storeGrants } from '../../schema/store-sites.ts';
import { canRunNetns, must, Netns, tag } from './netns-kit.ts';

const skip = canRunNetns();
const CELL = '172.20.0.0/16';
const GATEWAY = '172.20.0.1';
const CADDY = '172.20.0.2';
const EMAIL_VIP = '172.20.0.64';
const WEBMAIL_VIP = '172.20.0.65';
const HOST_PORT = 2525;
const webmailPorts = storeFrontPorts(CELL, WEBMAIL_VIP);

describe('store host ports at the virtual IP through the per-peer firewall (DNAT + ctorigdst)', {
  skip,
}, () => {
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

  /** What a TCP connection from `source` to host:port reads first ('' when refused or silent). */
  const dial = async (source: string, host: string, port: number) =>
    (
      await ns.peer.run([
        process.execPath,
        '-e',
        `const s=require('node:net').connect({host:${JSON.stringify(host)},port:${port},localAddress:${JSON.stringify(source)}});` +
          "s.on('data',d=>{process.stdout.write(String(d));process.exit(0)});s.on('error',()=>process.exit(0));" +
          'setTimeout(()=>process.exit(0),2000)',
      ])
    ).stdout;

  before(async () => {
    for (const k of ['peer', 'srv', 'cell'] as const) ns[k] = await Netns.create(`pic-hp${k[0]}-${t}`);
    await veth(ns.peer, 'tun0', ns.srv, 'wg0');
    await veth(ns.srv, 'eth0', ns.cell, 'eth0');
    for (const a of ['10.0.0.2/24', '10.0.0.3/24', '10.0.0.4/24'])
      await ns.peer.must(['ip', 'address', 'add', a, 'dev', 'tun0']);
    await ns.peer.must(['ip', 'route', 'add', CELL, 'dev', 'tun0', 'via', '10.0.0.1']);
    await ns.srv.must(['ip', 'address', 'add', '10.0.0.1/24', 'dev', 'wg0']);
    await ns.srv.must(['ip', 'address', 'add', '172.20.0.5/16', 'dev', 'eth0']);
    await ns.srv.must(['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    for (const a of [`${GATEWAY}/16`, `${CADDY}/16`])
      await ns.cell.must(['ip', 'address', 'add', a, 'dev', 'eth0']);
    await ns.cell.must(['ip', 'route', 'add', '10.0.0.0/24', 'via', '172.20.0.5']);
    // The host's published port (what Docker's port publishing answers on the gateway), and "Caddy"
    // on webmail's front port and on 443 (the front door).
    ns.cell.spawn([
      process.execPath,
      '-e',
      "const n=require('node:net');" +
        `n.createServer(s=>s.end('220 host-port\\n')).listen(${HOST_PORT},'${GATEWAY}');` +
        `for(const p of [443,${webmailPorts.https}])n.createServer(s=>s.end('caddy '+p+'\\n')).listen(p,'${CADDY}');`,
    ]);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ss = (await ns.cell.run(['ss', '-ltn'])).stdout;
      if (ss.includes(`:${HOST_PORT}`) && ss.includes(`:${webmailPorts.https}`)) break;
      if (Date.now() > deadline) throw new Error('the test servers did not listen');
      await new Promise((r) => setTimeout(r, 50));
    }
    // The grants as the cell builds them from the store's facts (peers-apply: storeGrants).
    const store = storeGrants(
      [
        {
          serviceId: 'webmail',
          subdomain: 'mail',
          virtualIp: WEBMAIL_VIP,
          address: EMAIL_VIP,
          upstream: 'cell-webmail_roundcube:8080',
        },
      ],
      [
        {
          serviceId: 'email',
          virtualIp: EMAIL_VIP,
          names: ['mail'],
          hostPorts: [{ proto: 'tcp', port: HOST_PORT }],
          hostAddress: GATEWAY,
        },
      ],
      'home.cell',
      CELL,
    );
    const peer = (name: string, address: string, services: string[]) => ({
      name,
      address,
      services,
      internet: false,
      peer_to_peer: false,
    });
    const doc = renderFirewall({
      iface: 'wg0',
      outIface: 'eth0',
      vpnAddress: '10.0.0.1/24',
      cellNetwork: CELL,
      store,
      peers: [
        peer('alice', '10.0.0.2', ['dns', 'email']),
        peer('bob', '10.0.0.3', ['dns', 'web']),
        peer('carol', '10.0.0.4', ['dns', 'webmail']),
      ],
      present: NO_PIC_STATE,
    }).output;
    await ns.srv.must(['iptables-restore', '--noflush'], doc);
  });

  after(async () => {
    for (const k of ['peer', 'srv', 'cell'] as const) await ns[k]?.destroy();
  });

  test("the granted peer reaches the host's published port at the service's virtual IP", async () => {
    assert.equal(await dial('10.0.0.2', EMAIL_VIP, HOST_PORT), '220 host-port\n');
  });

  test('a peer not granted the service gets nothing there, nor at the gateway', async () => {
    assert.equal(await dial('10.0.0.3', EMAIL_VIP, HOST_PORT), '');
    assert.equal(await dial('10.0.0.3', GATEWAY, HOST_PORT), '');
    assert.equal(await dial('10.0.0.4', EMAIL_VIP, HOST_PORT), '', 'webmail is not email');
  });

  test('the granted peer cannot skip the virtual IP: the gateway port directly is refused', async () => {
    assert.equal(await dial('10.0.0.2', GATEWAY, HOST_PORT), '');
  });

  test("HTTPS at email's address is webmail's route: for peers granted webmail only", async () => {
    assert.equal(await dial('10.0.0.4', EMAIL_VIP, 443), `caddy ${webmailPorts.https}\n`);
    assert.equal(await dial('10.0.0.2', EMAIL_VIP, 443), '', 'email alone does not open webmail');
    assert.equal(await dial('10.0.0.4', CADDY, webmailPorts.https), '', 'nor the front port directly');
    assert.equal(await dial('10.0.0.4', WEBMAIL_VIP, 443), '', "webmail's own address answers nothing");
  });
});
