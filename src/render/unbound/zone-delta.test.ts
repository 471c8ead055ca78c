// The live delta between two zones: only names that lose a record are emptied (and refilled), names
// that only gain are added to, and grants become view zone changes. A domain switch is live too (the
// new zone whole, the old one removed); a zone inside the other or a view-set change is not
// (undefined: the driver reloads).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HOSTILE_STRINGS } from '../../schema/hostile.ts';
import { type CellZoneInput, renderCellZone } from './cell-zone.ts';
import { zoneDelta } from './zone-delta.ts';

const z = (records: CellZoneInput['records'], deny: string[] = []): CellZoneInput => ({
  zone: 'mycell.cell',
  records,
  views: [{ address: '10.0.0.2', deny }],
});
const A = (name: string, value: string) => ({ name, type: 'A' as const, value, ttl: 60 });

test('adding to a name never removes it; removing one record refills the rest', () => {
  const d = zoneDelta(
    z([A('a', '192.0.2.1')]),
    z([A('a', '192.0.2.1'), A('a', '192.0.2.2'), A('b', '192.0.2.3')]),
  );
  assert.deepEqual(d, {
    removeNames: [],
    addData: ['a.mycell.cell. 60 IN A 192.0.2.2', 'b.mycell.cell. 60 IN A 192.0.2.3'],
    viewRemove: [],
    viewAdd: [],
  });
  const r = zoneDelta(
    z([A('a', '192.0.2.1'), A('a', '192.0.2.2'), A('b', '192.0.2.3')]),
    z([A('a', '192.0.2.1')]),
  );
  assert.deepEqual(r, {
    removeNames: ['a.mycell.cell.', 'b.mycell.cell.'],
    addData: ['a.mycell.cell. 60 IN A 192.0.2.1'],
    viewRemove: [],
    viewAdd: [],
  });
});

test('grants become view zone changes; a new view is not live', () => {
  const d = zoneDelta(z([], ['ntp']), z([], ['web']));
  assert.deepEqual(d?.viewRemove, [{ view: 'peer-10.0.0.2', name: 'ntp.mycell.cell.' }]);
  assert.deepEqual(d?.viewAdd, [{ view: 'peer-10.0.0.2', name: 'web.mycell.cell.' }]);
  assert.equal(
    zoneDelta(z([]), { ...z([]), views: [...z([]).views, { address: '10.0.0.3', deny: [] }] }),
    undefined,
  );
});

test('a domain switch: the new zone with every record and denial, the old zone and its denials removed', () => {
  const prev = z([A('@', '172.20.0.2'), A('alice', '10.0.0.2')], ['ntp']);
  const next: CellZoneInput = {
    ...z([A('@', '172.20.0.2'), A('alice', '10.0.0.2')], ['ntp', 'web']),
    zone: 'home.example.org',
  };
  assert.deepEqual(zoneDelta(prev, next), {
    zone: { add: 'home.example.org.', remove: 'mycell.cell.' },
    removeNames: [],
    addData: ['alice.home.example.org. 60 IN A 10.0.0.2', 'home.example.org. 60 IN A 172.20.0.2'],
    viewRemove: [{ view: 'peer-10.0.0.2', name: 'ntp.mycell.cell.' }],
    viewAdd: [
      { view: 'peer-10.0.0.2', name: 'ntp.home.example.org.' },
      { view: 'peer-10.0.0.2', name: 'web.home.example.org.' },
    ],
  });
  // One zone inside the other: the records would land in the wrong zone; the driver reloads.
  assert.equal(zoneDelta(prev, { ...prev, zone: 'sub.mycell.cell' }), undefined);
  assert.equal(zoneDelta({ ...prev, zone: 'sub.mycell.cell' }, prev), undefined);
  // Another view set with the switch: not live either.
  assert.equal(zoneDelta(prev, { ...next, views: [{ address: '10.0.0.3', deny: [] }] }), undefined);
});

test('the zone renderer refuses values that would add a line or a quote', () => {
  for (const h of HOSTILE_STRINGS) {
    assert.throws(() => renderCellZone(z([A(h, '192.0.2.1')])), /refusing to render/, h);
    // TXT is free text: `;id` is only text there, but a quote, backslash or line break never passes.
    if (/["'\\\n\r\0]|^$/.test(h))
      assert.throws(() => renderCellZone(z([{ name: 'a', type: 'TXT', value: h, ttl: 1 }])), /refusing/, h);
    assert.throws(() => renderCellZone(z([], [h])), /refusing to render/, h);
  }
  assert.throws(() => renderCellZone({ ...z([]), zone: "x.cell'" }), /refusing to render/);
});
