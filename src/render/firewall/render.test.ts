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
  // A grant is a core service or a store service's id (a slug); nothing that could change a rule.
  for (const bad of ['SSH', 'x -j ACCEPT', 'a\nCOMMIT', '-calendar', 'x'])
    assert.throws(() => renderFirewall({ ...base, peers: [{ ...p, services: [bad] }] }), /refusing/, bad);
  const grant = { id: 'calendar', virtualIp: '172.20.0.64', ports: { https: 20064, http: 21064 } };
  for (const store of [
    [{ ...grant, id: 'x -j ACCEPT' }],
    [{ ...grant, virtualIp: '172.20.0.64/0' }],
    [{ ...grant, ports: { https: 0, http: 21064 } }],
    [{ ...grant, ports: { https: '20064 -j ACCEPT', http: 21064 } }],
  ])
    assert.throws(
      () => renderFirewall({ ...base, store } as FirewallInput),
      /refusing/,
      JSON.stringify(store),
    );
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

test('store services: a grant of one not installed opens nothing; an install is a full reload', () => {
  const store = goldenCases(dir).find((c) => c.name === 'store-services')!.input as FirewallInput;
  const text = renderFirewall(store).output;
  // phone is granted `mail`, which is not installed: no rule names it.
  assert.doesNotMatch(text, /mail/);
  // The web grant alone never reaches a store service's front ports.
  const tablet = text.split('\n').filter((l) => l.startsWith('-A PIC-PEER-10-0-0-4 '));
  assert.ok(tablet.every((l) => !/--dport 2\d{4}/.test(l)));
  const m = { ...store, present: undefined } as unknown as FirewallModelDelta;
  assert.equal(renderFirewallDelta({ ...m, store: [] }, m), undefined);
  assert.equal(renderFirewallDelta(m, { ...m, store: m.store!.slice(1) }), undefined);
  assert.deepEqual(renderFirewallDelta(m, m), { output: '', warnings: [] });
});

test("mail-like services: host ports at the virtual IP, a route answered at a dependency's address", () => {
  const mail = goldenCases(dir).find((c) => c.name === 'store-mail')!.input as FirewallInput;
  const text = renderFirewall(mail).output;
  const chain = (a: string) =>
    text.split('\n').filter((l) => l.startsWith(`-A PIC-PEER-${a.replaceAll('.', '-')} `));
  // dave (web and the internet, no store grant) gets nothing at the host's gateway nor Caddy's store ports.
  assert.ok(chain('10.0.0.5').every((l) => !l.includes('172.20.0.1/32') && !l.includes('ctorigdst')));
  // bob (email only): the host ports, never webmail's HTTPS at email's address.
  assert.ok(chain('10.0.0.3').every((l) => !/--dport 2[01]066/.test(l)));
  // carol (webmail, not email): HTTPS at email's address, none of email's host ports.
  assert.ok(
    chain('10.0.0.4').some((l) => l.includes('--dport 20066 -m conntrack --ctorigdst 172.20.0.65/32')),
  );
  assert.ok(chain('10.0.0.4').every((l) => !l.includes('172.20.0.1/32')));
  // webmail's own address answers nothing: its only route is on email's name.
  assert.doesNotMatch(text, /-d 172\.20\.0\.66\//);
  const email = mail.store!.find((s) => s.id === 'email')!;
  for (const store of [
    [{ ...email, hostAddress: undefined }],
    [{ ...email, hostAddress: '172.20.0.1 -j ACCEPT' }],
    [{ ...email, hostPorts: [{ proto: 'icmp', port: 25 }] }],
    [{ ...email, hostPorts: [{ proto: 'tcp', port: '25 -j ACCEPT' }] }],
    [{ ...email, addresses: ['172.20.0.65/0'] }],
  ])
    assert.throws(
      () => renderFirewall({ ...mail, store } as FirewallInput),
      /refusing/,
      JSON.stringify(store),
    );
});
