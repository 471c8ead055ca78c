import assert from 'node:assert/strict';
import { test } from 'node:test';
import { healthcheckArgv } from './healthcheck-readiness.ts';

test("the image's HEALTHCHECK becomes the argv docker exec runs", () => {
  assert.deepEqual(healthcheckArgv(['CMD', '/usr/local/bin/pic-dns-healthcheck']), [
    '/usr/local/bin/pic-dns-healthcheck',
  ]);
  assert.deepEqual(healthcheckArgv(['CMD-SHELL', 'wg show wg0']), ['/bin/sh', '-c', 'wg show wg0']);
  assert.equal(healthcheckArgv(['NONE']), null);
  assert.equal(healthcheckArgv(undefined), null);
  assert.equal(healthcheckArgv(['CMD']), null);
});
