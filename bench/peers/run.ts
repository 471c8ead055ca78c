// Peers benchmark (issue 8, item 8). Not run by CI: `npm run bench:peers` (root: network namespaces).
//
// A real wireguard-go interface in a network namespace plays cell-wireguard; the cell's API runs in
// this process (Fastify inject, a temp data dir) with the ExecWireguard driver acting through
// `ip netns exec`, exactly the path `docker exec` takes in the cell. For 10, 100 and 1000 existing
// peers it measures POST /api/peers?qr=false from the call until its answer, which comes after the
// peer is live (`wg addconf`) and firewalled (`iptables-restore --noflush` of its chain) and the
// server config a restart loads is written. Beside it, in the same run, namespace and exec path, the
// same change made by hand: a new peer's `wg addconf` of a file holding its [Peer] section and the
// `iptables-restore --noflush` of its chain delta, two bare execs. It prints the ratio. Then the
// default answer (with the QR code) at 1000 peers, and GET /api/peers at 1000 peers. Existing peers are
// inserted through the store and applied once (1000 adds through the API is not what is measured).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { authed, completeSetup, makeKit } from '../../src/api/test-kit.ts';
import { generateKeyPair, generatePresharedKey } from '../../src/core/peers/keys.ts';
import type { FirewallModel } from '../../src/core/peers/wireguard-port.ts';
import { sqliteUnitOfWork } from '../../src/drivers/db.ts';
import { PeersStore } from '../../src/drivers/store/peers-store.ts';
import { ExecWireguard } from '../../src/drivers/wireguard/exec-wireguard.ts';
import { canRunNetns, Netns, REPO_APPLY_COMMAND, tag } from '../../src/drivers/wireguard/netns-kit.ts';
import { renderFirewallDelta } from '../../src/render/firewall/peer-rules-delta.ts';
import { peerSection } from '../../src/render/wireguard/peer-section.ts';

const REPEAT = Number(process.env.BENCH_REPEAT ?? 15);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

const why = canRunNetns();
if (why) {
  console.error(`bench:peers ${why}`);
  process.exit(1);
}

const t = tag();
const ns = await Netns.create(`pic-bench-${t}`);
const iface = `w${t}`;
const dir = mkdtempSync(join(tmpdir(), 'pic-bench-peers-'));
try {
  await ns.wireguardGo(iface);
  await ns.must(['wg', 'set', iface, 'listen-port', '51820']);
  await ns.must(['ip', 'address', 'add', '10.0.0.1/16', 'dev', iface]);
  await ns.must(['ip', 'link', 'set', iface, 'up']);
  const wg = new ExecWireguard({ exec: ns.exec, iface, confDir: dir, applyCommand: REPO_APPLY_COMMAND });
  const kit = await makeKit({}, { background: false, wireguard: wg }, dir);
  const admin = await completeSetup(kit);
  // A /16 VPN so 1000+ peers fit.
  const put = await kit.app.inject({
    method: 'PUT',
    url: '/api/config',
    headers: authed(admin),
    payload: { identity: { vpn_address: '10.0.0.1/16' } },
  });
  if (put.statusCode !== 200) throw new Error(put.body);
  const store = new PeersStore(kit.cell.db);
  const uow = sqliteUnitOfWork(kit.cell.db);
  let made = 0;
  const fill = (upTo: number) =>
    uow.run(() => {
      for (; made < upTo; made++) {
        const k = generateKeyPair();
        store.insert({
          name: `seed${made}`,
          address: `10.0.${10 + Math.floor(made / 250)}.${(made % 250) + 2}`,
          public_key: k.publicKey,
          private_key: k.privateKey,
          preshared_key: generatePresharedKey(),
          routing: 'split',
          services: ['dns', 'ntp', 'web'],
          internet: false,
          peer_to_peer: false,
          blocklists: true,
          enabled: true,
          expires_at: null,
          account: false,
        });
      }
    });

  // The reference: one more peer added by hand (outside PIC's state, in a range PIC never allocates
  // here), through the same exec path: its [Peer] section to `wg addconf`, its chain delta to
  // `iptables-restore --noflush`. Rendered before the clock starts; only the two execs are timed.
  let refN = 0;
  const bareAdd = async (): Promise<number> => {
    const n = refN++;
    const address = `10.0.${200 + Math.floor(n / 250)}.${(n % 250) + 2}`;
    const section = `${peerSection({
      name: `ref${n}`,
      publicKey: generateKeyPair().publicKey,
      presharedKey: generatePresharedKey(),
      address,
    }).join('\n')}\n`;
    const model: FirewallModel = {
      iface,
      outIface: 'eth0',
      vpnAddress: '10.0.0.1/16',
      cellNetwork: '172.20.0.0/16',
      peers: [],
    };
    const peer = {
      name: `ref${n}`,
      address,
      services: ['dns', 'ntp', 'web'],
      internet: false,
      peer_to_peer: false,
    };
    const delta = renderFirewallDelta(model, { ...model, peers: [peer] })!.output;
    // wg reads a file (stdin through a pipe is not one it can open), written before the clock starts.
    const file = join(dir, 'ref-peer.conf');
    writeFileSync(file, section, { mode: 0o600 });
    const t0 = process.hrtime.bigint();
    for (const [argv, stdin] of [
      [['wg', 'addconf', iface, file], undefined],
      [['iptables-restore', '--noflush'], delta],
    ] as const) {
      const r = await ns.exec([...argv], stdin === undefined ? {} : { stdin });
      if (r.exitCode !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
    }
    return ms(t0);
  };

  let n = 0;
  const apiAdd = async (qr: boolean): Promise<number> => {
    const t0 = process.hrtime.bigint();
    const r = await kit.app.inject({
      method: 'POST',
      url: qr ? '/api/peers' : '/api/peers?qr=false',
      headers: authed(admin),
      payload: { name: `bench${n++}`, create_account: false },
    });
    const took = ms(t0);
    // The file a restart loads is written right after the answer: let it finish before anything
    // else is timed, so the two never share the CPU.
    await wg.saved();
    if (r.statusCode !== 201 || !r.json().apply.applied)
      throw new Error(`add failed: ${r.statusCode} ${r.body}`);
    return took;
  };

  console.log(
    `bench:peers — ${cpus()[0]?.model} ×${cpus().length}, Linux ${release()}, wireguard-go in a netns`,
  );
  console.log('existing | add peer (API → applied) | by hand (wg addconf + iptables-restore) | ratio');
  for (const existing of [10, 100, 1000]) {
    fill(existing);
    await kit.cell.deps.peers.apply();
    // Warm-up (JIT, prepared statements, the driver's first full load), not counted.
    await apiAdd(false);
    await bareAdd();
    const add: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < REPEAT; i++) {
      add.push(await apiAdd(false));
      bare.push(await bareAdd());
    }
    const a = median(add);
    const b = median(bare);
    console.log(
      `${String(existing).padStart(8)} | ${a.toFixed(1).padStart(10)} ms (median of ${REPEAT}) | ${b.toFixed(1).padStart(10)} ms | ${(a / b).toFixed(2)}×`,
    );
  }
  const withQr: number[] = [];
  for (let i = 0; i < REPEAT; i++) withQr.push(await apiAdd(true));
  console.log(
    `add peer with the QR code in the answer (the default) at ~1000 peers: ${median(withQr).toFixed(1)} ms`,
  );
  const lat: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = process.hrtime.bigint();
    const r = await kit.app.inject({ url: '/api/peers', headers: authed(admin) });
    lat.push(ms(t0));
    if (r.statusCode !== 200 || r.json().length < 1000) throw new Error('list failed');
  }
  console.log(
    `GET /api/peers at ${kit.cell.deps.peers.list().length} peers (inject, 200 calls): p50 ${pct(lat, 0.5).toFixed(1)} ms, p99 ${pct(lat, 0.99).toFixed(1)} ms`,
  );
  await kit.app.close();
  kit.cell.close();
} finally {
  await ns.destroy();
  rmSync(dir, { recursive: true, force: true });
}
