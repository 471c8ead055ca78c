// The fetch driver against a local server: a redirect is answered, never followed (a token must not
// travel on); failures name no URL (the URL may carry a token); the body is capped; time is limited.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { fetchClient } from './fetch-client.ts';

let base = '';
let followed = false;
const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (path === '/redirect') {
    res.writeHead(302, { location: '/elsewhere' });
    res.end();
  } else if (path === '/elsewhere') {
    followed = true;
    res.end('no');
  } else if (path === '/big') res.end('x'.repeat(10_000));
  else if (path === '/slow') setTimeout(() => res.end('late'), 2_000).unref();
  else res.writeHead(429, { 'retry-after': '30' }).end('slow down');
});
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

test('a redirect is answered as it is, never followed', async () => {
  const r = await fetchClient().send({ method: 'GET', url: `${base}/redirect?token=SECRET` });
  assert.equal(r.status, 302);
  assert.equal(followed, false);
});

test('status, body and Retry-After come back; the body is capped', async () => {
  const r = await fetchClient().send({ method: 'GET', url: `${base}/x` });
  assert.deepEqual(r, { status: 429, body: 'slow down', retryAfter: '30' });
  const big = await fetchClient({ maxBodyBytes: 1_000 }).send({ method: 'GET', url: `${base}/big` });
  assert.ok(big.body.length <= 1_000);
});

test('failures and timeouts name no URL', async () => {
  const closed = `http://127.0.0.1:1/update?token=SECRET`;
  await assert.rejects(fetchClient().send({ method: 'GET', url: closed }), (e: Error) => {
    assert.doesNotMatch(e.message, /SECRET|127\.0\.0\.1/);
    assert.match(e.message, /request failed/);
    return true;
  });
  await assert.rejects(
    fetchClient({ timeoutMs: 100 }).send({ method: 'GET', url: `${base}/slow?token=SECRET` }),
    /request timed out/,
  );
});
