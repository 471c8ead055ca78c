// The driver's exec sequence with a recording exec (the real tools run in netns.int.test.ts): the first
// apply is a full one, the next sends only the change and then saves the whole config off the answer's
// path, and a failed save is written again by loaded() without a full apply (no syncconf).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateKeyPair, generatePresharedKey } from '../../core/peers/keys.ts';
import type { FirewallModel } from '../../core/peers/wireguard-port.ts';
import type { ServerPeer } from '../../render/wireguard/server-conf.ts';
import { type ExecResult, ExecWireguard } from './exec-wireguard.ts';

const peer = (n: number): ServerPeer => ({
  name: `p${n}`,
  publicKey: generateKeyPair().publicKey,
  presharedKey: generatePresharedKey(),
  address: `10.0.0.${n + 1}`,
});
const fw = (peers: ServerPeer[]): FirewallModel => ({
  iface: 'wg0',
  outIface: 'eth0',
  vpnAddress: '10.0.0.1/24',
  cellNetwork: '172.20.0.0/16',
  peers: peers.map((p) => ({
    name: p.name,
    address: p.address,
    services: ['dns'],
    internet: false,
    peer_to_peer: false,
  })),
});

test('full first, then the change alone and a save after it; a failed save is retried, not re-synced', async () => {
  const calls: Array<{ argv: string[]; stdin?: string }> = [];
  let failSave = false;
  const exec = async (argv: string[], o?: { stdin?: string }): Promise<ExecResult> => {
    calls.push({ argv, ...(o?.stdin === undefined ? {} : { stdin: o.stdin }) });
    if (argv[0] === 'printenv') return { exitCode: 0, stdout: '51820\n', stderr: '' };
    if (argv.at(-1) === 'save' && failSave) return { exitCode: 1, stdout: '', stderr: 'disk full' };
    return { exitCode: 0, stdout: '', stderr: '' };
  };
  const wg = new ExecWireguard({ exec, applyCommand: ['pic-wg-apply'] });
  const key = generateKeyPair().privateKey;
  const a = peer(1);
  const b = peer(2);
  await wg.apply({ privateKey: key, peers: [a] }, fw([a]));
  const modes = () => calls.filter((c) => c.argv[0] === 'pic-wg-apply').map((c) => c.argv.at(-1));
  assert.deepEqual(modes(), ['full']);
  assert.ok(
    calls.some((c) => c.argv[0] === 'iptables-save'),
    'the first load reads what is there',
  );

  calls.length = 0;
  await wg.apply({ privateKey: key, peers: [a, b] }, fw([a, b]));
  assert.deepEqual(modes(), ['delta'], 'the answer waits for the live change only');
  const delta = calls[0]!.stdin!;
  assert.ok(
    delta.includes(`PublicKey = ${b.publicKey}`) && !delta.includes(a.publicKey),
    'only the new peer',
  );
  assert.ok(!delta.includes(key), 'no private key in the live change');
  assert.match(delta, /#PIC-FIREWALL#\n\*filter\n:PIC-PEER-10-0-0-3 /);
  await wg.saved();
  assert.deepEqual(modes(), ['delta', 'save']);
  const saved = calls.at(-1)!.stdin!;
  assert.match(saved, /^ListenPort = 51820$/m);
  assert.equal(saved.match(/\[Peer\]/g)?.length, 2);

  failSave = true;
  calls.length = 0;
  await wg.apply({ privateKey: key, peers: [b] }, fw([b]));
  await wg.saved();
  assert.deepEqual(modes(), ['delta', 'save']);
  failSave = false;
  assert.equal(await wg.loaded(), true, 'the live state is still known');
  await wg.saved();
  assert.deepEqual(modes(), ['delta', 'save', 'save'], 'written again, no full apply');
  assert.equal(calls.at(-1)!.stdin!.match(/\[Peer\]/g)?.length, 1);
});

test('a failed save followed by a full apply: the older config is never written over the newer file', async () => {
  const calls: Array<{ argv: string[]; stdin?: string }> = [];
  let fail: 'save' | 'delta' | undefined;
  const exec = async (argv: string[], o?: { stdin?: string }): Promise<ExecResult> => {
    calls.push({ argv, ...(o?.stdin === undefined ? {} : { stdin: o.stdin }) });
    if (argv[0] === 'printenv') return { exitCode: 0, stdout: '51820\n', stderr: '' };
    if (fail && argv.at(-1) === fail) return { exitCode: 1, stdout: '', stderr: 'refused' };
    return { exitCode: 0, stdout: '', stderr: '' };
  };
  const wg = new ExecWireguard({ exec, applyCommand: ['pic-wg-apply'] });
  const key = generateKeyPair().privateKey;
  const [a, b, c] = [peer(1), peer(2), peer(3)];
  await wg.apply({ privateKey: key, peers: [a] }, fw([a]));
  fail = 'save';
  await wg.apply({ privateKey: key, peers: [a, b] }, fw([a, b]));
  await wg.saved(); // failed: [a, b] is left to write again
  fail = 'delta';
  await assert.rejects(wg.apply({ privateKey: key, peers: [b] }, fw([b])), /exited 1/);
  fail = undefined;
  await wg.apply({ privateKey: key, peers: [b, c] }, fw([b, c])); // unknown state: full, file included
  calls.length = 0;
  assert.equal(await wg.loaded(), true);
  await wg.saved();
  const modes = calls.filter((x) => x.argv[0] === 'pic-wg-apply').map((x) => x.argv.at(-1));
  assert.deepEqual(modes, [], 'the full apply wrote the newest file; nothing older follows it');
});
