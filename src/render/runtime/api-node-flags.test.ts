import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { API_NODE_FLAGS } from './api-node-flags.ts';

const root = join(import.meta.dirname, '..', '..', '..');

test("cell-api's image starts the API with the API's Node flags", () => {
  const cmd = /^CMD \[(.*)\]$/m.exec(readFileSync(join(root, 'images/cell-api/Dockerfile'), 'utf8'));
  const argv = JSON.parse(`[${cmd?.[1]}]`) as string[];
  assert.deepEqual(argv.slice(0, 1 + API_NODE_FLAGS.length), ['node', ...API_NODE_FLAGS]);
});

test("./pic runs every command with the API's Node flags", () => {
  const line = readFileSync(join(root, 'pic'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('exec node_modules/node/bin/node '));
  assert.equal(line, `exec node_modules/node/bin/node ${API_NODE_FLAGS.join(' ')} src/cli/main.ts "$@"`);
});
