// Golden cases of the WireGuard renderers (server wg(8) config, peer wg-quick configs) and their refusal
// of values that would inject a line. UPDATE_GOLDEN=1 rewrites the goldens (review the diff).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { HOSTILE_STRINGS } from '../../schema/hostile.ts';
import { goldenCases, testGoldens } from '../common/golden-kit.ts';
import { type PeerConfInput, renderPeerConf } from './peer-conf.ts';
import { renderServerConf, type ServerConfInput, type ServerPeer } from './server-conf.ts';
import { renderServerDelta } from './server-delta.ts';

const dir = join(import.meta.dirname, 'golden');
testGoldens(dir, (input: ServerConfInput | PeerConfInput) =>
  'peers' in input ? renderServerConf(input).output : renderPeerConf(input).output,
);

// The live change without syncconf: keys to remove, then the [Peer] sections for `wg addconf`.
testGoldens(join(import.meta.dirname, 'golden-delta'), (i: { before: ServerPeer[]; after: ServerPeer[] }) => {
  const d = renderServerDelta(i.before, i.after);
  return `# remove\n${d.remove.map((k) => `${k}\n`).join('')}# add\n${d.add}`;
});

const peerCase = goldenCases(dir).find((c) => c.name === 'peer-full')!.input as PeerConfInput;
const serverCase = goldenCases(dir).find((c) => c.name === 'server-two-peers')!.input as ServerConfInput;
const smuggle = [
  ...HOSTILE_STRINGS,
  'x\n[Peer]',
  'x\nPostUp = id',
  '10.0.0.2/32, 0.0.0.0/0',
  '10.0.0.2\nAllowedIPs = 0.0.0.0/0',
  'WIjIs0loWKPoeP6rFfaMuZEhjuKZJjE6Rvpq6csjBWQ=\nPostUp = id',
];

test('every string field of a peer config refuses injection attempts', () => {
  for (const field of Object.keys(peerCase) as Array<keyof PeerConfInput>) {
    if (typeof peerCase[field] !== 'string') continue;
    for (const bad of smuggle)
      assert.throws(
        () => renderPeerConf({ ...peerCase, [field]: bad }),
        /refusing to render/,
        `${field}=${JSON.stringify(bad)}`,
      );
  }
});

test('every field of a server peer refuses injection attempts', () => {
  const p = serverCase.peers[0]!;
  for (const field of Object.keys(p) as Array<keyof typeof p>) {
    for (const bad of smuggle)
      assert.throws(
        () => renderServerConf({ ...serverCase, peers: [{ ...p, [field]: bad }] }),
        /refusing to render/,
        `${field}=${JSON.stringify(bad)}`,
      );
  }
  for (const bad of smuggle)
    assert.throws(() => renderServerConf({ ...serverCase, privateKey: bad }), /refusing to render/);
});

test('a duplicate key is skipped with a warning, not rendered twice', () => {
  const p = serverCase.peers[0]!;
  const r = renderServerConf({ ...serverCase, peers: [p, { ...p, name: 'zz', address: '10.0.0.99' }] });
  assert.equal(r.output.match(/\[Peer\]/g)?.length, 1);
  assert.equal(r.warnings.length, 1);
});

test('rendered configs contain exactly the intended sections and keys', () => {
  const out = renderPeerConf(peerCase).output;
  const keys = out
    .split('\n')
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('['))
    .map((l) => l.split(' = ')[0]);
  assert.deepEqual(keys, [
    'PrivateKey',
    'Address',
    'DNS',
    'PublicKey',
    'PresharedKey',
    'AllowedIPs',
    'Endpoint',
    'PersistentKeepalive',
  ]);
  assert.equal(out.match(/^\[/gm)?.length, 2);
});
