// Golden cases of Caddy's JSON config and its refusal of values that would change its meaning:
// line breaks and quotes, but also Caddy placeholders ({env.HOME}) that Caddy itself would expand.
// UPDATE_GOLDEN=1 rewrites the goldens (review the diff).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { HOSTILE_STRINGS } from '../../schema/hostile.ts';
import { goldenCases, testGoldens } from '../common/golden-kit.ts';
import { type CaddyConfigInput, renderCaddyConfig } from './caddy-config.ts';

const dir = join(import.meta.dirname, 'golden');
testGoldens(dir, (input: CaddyConfigInput) => renderCaddyConfig(input).output);

const base = goldenCases(dir).find((c) => c.name === 'default-cell')!.input as CaddyConfigInput;
const smuggle = [
  ...HOSTILE_STRINGS,
  '{env.HOME}:2019',
  '172.20.0.10:{env.PORT}',
  '{http.request.host}',
  '172.20.0.10:3000"},{"dial":"evil:1',
  '172.20.0.10:3000\n',
  'localhost',
  '172.20.0.10',
  '172.20.0.10:99999',
  '0.0.0.0:2019',
];

test('every field refuses injection attempts and Caddy placeholders', () => {
  for (const bad of smuggle) {
    assert.throws(() => renderCaddyConfig({ ...base, adminListen: bad }), /refusing to render/, bad);
    assert.throws(() => renderCaddyConfig({ ...base, apiUpstream: bad }), /refusing to render/, bad);
    assert.throws(() => renderCaddyConfig({ ...base, adminOrigins: [bad] }), /refusing to render/, bad);
  }
});

test('the admin block keeps its restrictions: one address, origins checked', () => {
  const c = JSON.parse(renderCaddyConfig(base).output) as { admin: { listen: string; origins: string[] } };
  assert.deepEqual(c.admin, { listen: base.adminListen, origins: base.adminOrigins });
});
