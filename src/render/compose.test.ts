import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultConfig } from '../schema/config.ts';
import { parseEnvFile } from '../schema/runtime.ts';
import { renderCompose } from './compose.ts';
import { desiredState } from './runtime/desired-state.ts';

const GOLDEN = join(import.meta.dirname, 'golden', 'compose.golden.yml');

test('pic compose renders the default cell as its golden file (UPDATE_GOLDEN=1 regenerates)', () => {
  const config = defaultConfig();
  config.network.ntp_servers = ['192.168.1.1'];
  const desired = desiredState({
    config,
    env: parseEnvFile('WEBUI_PORT=9081\n'),
    cellDir: '/opt/pic',
    dockerGid: 998,
  });
  const text = renderCompose(desired);
  if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN, text);
  assert.equal(text, readFileSync(GOLDEN, 'utf8'));
});

test('no value can add a line to the document', () => {
  const desired = desiredState({
    config: defaultConfig(),
    env: {},
    cellDir: '/opt/pic\nprivileged: true',
    dockerGid: 1,
  });
  const text = renderCompose(desired);
  assert.doesNotMatch(text, /^\s*privileged: true/m);
});
