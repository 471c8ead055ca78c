// Peers benchmark (issue 4, item 9). Not run by CI: `npm run bench:peers` (root: network namespaces).
//
// A real wireguard-go interface in a network namespace plays cell-wireguard; the cell's API runs in
// this process (Fastify inject, a temp data dir) with the ExecWireguard driver acting through
// `ip netns exec`, exactly the path `docker exec` takes in the cell. For 10, 100 and 1000 existing
// peers it measures the time of POST /api/peers from the call until its answer (which comes after
// `wg syncconf` and `iptables-restore` have both finished: the rule is applied), and beside it, in the
// same run and namespace, a bare `wg syncconf` of the same rendered file; it prints the ratio. Then
// the latency of GET /api/peers at 1000 peers. Existing peers are inserted through the store and
// applied once (creating 1000 through the API would take minutes of applies, not what is measured).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { authed, completeSetup, makeKit } from '../../src/api/test-kit.ts';
import { generateKeyPair, generatePresharedKey } from '../../src/core/peers/keys.ts';
import { PeersStore } from '../../src/drivers/store/peers-store.ts';
import { ExecWireguard } from '../../src/drivers/wireguard/exec-wireguard.ts';
import { canRunNetns, Netns, REPO_APPLY_COMMAND, tag } from '../../src/drivers/wireguard/netns-kit.ts';

const REPEAT = Number(process.env.BENCH_REPEAT ?? 7);
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
  let made = 0;
  const fill = (upTo: number) => {
    kit.cell.db.exec('BEGIN');
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
        enabled: true,
        expires_at: null,
        account: false,
      });
    }
    kit.cell.db.exec('COMMIT');
  };

  console.log(
    `bench:peers — ${cpus()[0]?.model} ×${cpus().length}, Linux ${release()}, wireguard-go in a netns`,
  );
  console.log('existing | add peer (API → applied) | bare wg syncconf | ratio');
  let n = 0;
  for (const existing of [10, 100, 1000]) {
    fill(existing);
    await kit.cell.deps.peers.apply();
    const add: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < REPEAT; i++) {
      const t0 = process.hrtime.bigint();
      const r = await kit.app.inject({
        method: 'POST',
        url: '/api/peers',
        headers: authed(admin),
        payload: { name: `bench${n++}`, create_account: false },
      });
      add.push(ms(t0));
      if (r.statusCode !== 201 || !r.json().apply.applied)
        throw new Error(`add failed: ${r.statusCode} ${r.body}`);
      // The same rendered file, synced bare through the same exec path.
      const file = join(dir, 'bare.conf');
      writeFileSync(file, wg.lastServerConf!, { mode: 0o600 });
      const t1 = process.hrtime.bigint();
      await ns.must(['wg', 'syncconf', iface, file]);
      bare.push(ms(t1));
    }
    const a = median(add);
    const b = median(bare);
    console.log(
      `${String(existing).padStart(8)} | ${a.toFixed(1).padStart(10)} ms (median of ${REPEAT}) | ${b.toFixed(1).padStart(8)} ms | ${(a / b).toFixed(2)}×`,
    );
  }
  const lat: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = process.hrtime.bigint();
    const r = await kit.app.inject({ url: '/api/peers', headers: authed(admin) });
    lat.push(ms(t0));
    if (r.statusCode !== 200 || r.json().length < 1000) throw new Error('list failed');
  }
  console.log(
    `GET /api/peers at ${store.count()} peers (inject, 200 calls): p50 ${pct(lat, 0.5).toFixed(1)} ms, p99 ${pct(lat, 0.99).toFixed(1)} ms`,
  );
  await kit.app.close();
  kit.cell.close();
} finally {
  await ns.destroy();
  rmSync(dir, { recursive: true, force: true });
}
