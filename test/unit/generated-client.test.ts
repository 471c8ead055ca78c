// The UI's typed client must match the API: regenerate with `npm run gen:api` after changing a route.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { generateSchema, SCHEMA_PATH } from '../../scripts/gen-api.ts';

test('web/src/api/schema.d.ts is generated from the current routes', async () => {
  const fresh = await generateSchema();
  assert.equal(
    readFileSync(SCHEMA_PATH, 'utf8'),
    fresh,
    'stale schema.d.ts: run `npm run gen:api` and commit it',
  );
});
