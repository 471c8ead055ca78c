// Golden cases of Unbound's rendered include files (forward zone, control interfaces) and their
// refusal of values that would inject a line. UPDATE_GOLDEN=1 rewrites the goldens (review the diff).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { HOSTILE_STRINGS } from '../../schema/hostile.ts';
import { testGoldens } from '../common/golden-kit.ts';
import { renderControlInterfaces } from './control-interfaces.ts';
import { renderForwardZone } from './forward-zone.ts';
import { renderUnboundCase, type UnboundCase } from './render-case.ts';

testGoldens(join(import.meta.dirname, 'golden'), (input: UnboundCase) => renderUnboundCase(input));

const smuggle = [
  ...HOSTILE_STRINGS,
  '10.0.0.1\nforward-zone:',
  '10.0.0.1@53',
  '10.0.0.1 # x',
  '"10.0.0.1"',
  'server:\n    interface: 0.0.0.0',
];

test('forwarders and control interfaces refuse values that would add a line', () => {
  for (const bad of smuggle) {
    assert.throws(() => renderForwardZone({ forwarders: [bad] }), /refusing to render/, bad);
    assert.throws(
      () => renderControlInterfaces({ addresses: ['127.0.0.1', bad] }),
      /refusing to render/,
      bad,
    );
  }
});

test('remote control listens on loopback only (no certificates), and always somewhere', () => {
  for (const bad of ['0.0.0.0', '172.20.0.3', '10.0.0.1', '192.168.1.1'])
    assert.throws(
      () => renderControlInterfaces({ addresses: ['127.0.0.1', bad] }),
      /refusing to render/,
      bad,
    );
  assert.throws(() => renderControlInterfaces({ addresses: ['0.0.0.0'] }), /refusing to render/);
  assert.throws(() => renderControlInterfaces({ addresses: [] }), /refusing to render/);
});
