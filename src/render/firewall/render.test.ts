// Golden cases of the per-peer iptables-restore document, its refusal of hostile values, and the
// reading of iptables-save output that makes re-applying idempotent. UPDATE_GOLDEN=1 rewrites goldens.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { HOSTILE_STRINGS } from '../../schema/hostile.ts';
import { goldenCases, testGoldens } from '../common/golden-kit.ts';
import { type FirewallInput, parsePresent, renderFirewall } from './peer-rules.ts';
import { type FirewallModelDelta, renderFirewallDelta } from './peer-rules-delta.ts';

const dir = join(import.meta.dirname, 'golden');
testGoldens(dir, (input: FirewallInput) => renderFirewall(input).output);

const base = goldenCases(dir).find((c) => c.name === 'fresh-three-peers')!.input as FirewallInput;

test('hostile values in every peer field are refused', () => {
  const p = base.peers[0]!;
  for (const field of ['name', 'address'] as const)
    for (const bad of [...HOSTILE_STRINGS, '10.0.0.2 -j ACCEPT', 'x\nCOMMIT'])
      assert.throws(() => renderFirewall({ ...base, peers: [{ ...p, [field]: bad }] }), /refusing/, field);
  assert.throws(() => renderFirewall({ ...base, peers: [{ ...p, services: ['ssh'] }] }), /refusing/);
  assert.throws(() => renderFirewall({ ...base, iface: 'wg0 -j ACCEPT' }), /refusing/);
  assert.throws(
    () => renderFirewall({ ...base, present: { ...base.present, filterChains: ['PIC-X\n-F'] } }),
    /refusing/,
  );
});

test('parsePresent reads PIC chains and hooks back from iptables-save output', () => {
  const saved = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':PIC-PREROUTING - [0:0]',
    '-A PREROUTING -j PIC-PREROUTING',
    'COMMIT',
    '*filter',
    ':FORWARD ACCEPT [0:0]',
    ':DOCKER - [0:0]',
    ':PIC-FORWARD - [0:0]',
    ':PIC-PEER-10-0-0-2 - [0:0]',
    '-A FORWARD -j PIC-FORWARD',
    'COMMIT',
  ].join('\n');
  assert.deepEqual(parsePresent(saved), {
    filterChains: ['PIC-FORWARD', 'PIC-PEER-10-0-0-2'],
    natChains: ['PIC-PREROUTING'],
    hooks: { forward: true, input: false, prerouting: true },
  });
});

// The delta document (changed chains only) for an add, a change and a removal.
testGoldens(
  join(import.meta.dirname, 'golden-delta'),
  (input: { prev: FirewallModelDelta; next: FirewallModelDelta }) => {
    const r = renderFirewallDelta(input.prev, input.next);
    return r ? r.output : '(full reload needed)\n';
  },
);

test('a delta is refused when the networks change, and empty when nothing changed', () => {
  const m = { ...base, present: undefined } as unknown as FirewallModelDelta;
  assert.equal(renderFirewallDelta(m, { ...m, vpnAddress: '10.1.0.1/24' }), undefined);
  assert.deepEqual(renderFirewallDelta(m, m), { output: '', warnings: [] });
  assert.throws(
    () => renderFirewallDelta(m, { ...m, peers: [{ ...m.peers[0]!, name: 'x\n-F' }] }),
    /refusing/,
  );
});
