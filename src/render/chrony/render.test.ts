// Golden cases of chrony.conf and its refusal of values that would inject a line or a directive.
// UPDATE_GOLDEN=1 rewrites the goldens (review the diff).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { HOSTILE_STRINGS } from '../../schema/hostile.ts';
import { goldenCases, testGoldens } from '../common/golden-kit.ts';
import { type ChronyConfInput, renderChronyConf } from './chrony-conf.ts';

const dir = join(import.meta.dirname, 'golden');
testGoldens(dir, (input: ChronyConfInput) => renderChronyConf(input).output);

const base = goldenCases(dir).find((c) => c.name === 'two-upstreams')!.input as ChronyConfInput;
const smuggle = [
  ...HOSTILE_STRINGS,
  'pool.example.net\npool pool.example.net',
  'a.example.org iburst',
  '10.0.0.1 port 1',
  '0.0.0.0/0\nallow all',
  'all',
];

test('every server and client network refuses values that would add a directive', () => {
  for (const bad of smuggle) {
    assert.throws(() => renderChronyConf({ ...base, servers: [bad] }), /refusing to render/, bad);
    assert.throws(() => renderChronyConf({ ...base, allow: [bad] }), /refusing to render/, bad);
  }
});

test('no pool line ever; the local clock only without upstreams', () => {
  const withServers = renderChronyConf(base).output;
  assert.doesNotMatch(withServers, /^pool /m);
  assert.doesNotMatch(withServers, /^local /m);
  assert.match(renderChronyConf({ ...base, servers: [] }).output, /^local stratum 10$/m);
});
