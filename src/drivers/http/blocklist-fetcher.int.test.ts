// The blocklist fetcher against a node:http server on 127.0.0.1 (nothing leaves the machine): the
// size cap (announced and streamed), redirects (followed to http, refused to another scheme, capped),
// an HTTP error and the time limit, each failing with a short reason that does not quote the URL.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { blocklistFetcher } from './blocklist-fetcher.ts';

let server: Server;
let base = '';
before(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/ok') return res.end('0.0.0.0 ads.example\n');
    if (path === '/announced-big') {
      res.writeHead(200, { 'content-length': String(2000) });
      return res.end('x'.repeat(2000));
    }
    if (path === '/streamed-big') {
      res.writeHead(200); // chunked: no length announced
      for (let i = 0; i < 20; i++) res.write('x'.repeat(100));
      return res.end();
    }
    if (path === '/hop') return res.writeHead(302, { location: '/ok' }).end();
    if (path === '/loop') return res.writeHead(302, { location: '/loop' }).end();
    if (path === '/to-ftp') return res.writeHead(301, { location: 'ftp://127.0.0.1/x' }).end();
    if (path === '/to-creds') return res.writeHead(301, { location: `http://u:p@127.0.0.1/ok` }).end();
    if (path === '/slow') return; // never answers: the time limit ends it
    res.writeHead(404).end('no');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(
  () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
);

const f = blocklistFetcher({ maxBytes: 1000, timeoutMs: 300 });
const fails = (path: string, re: RegExp) =>
  assert.rejects(
    f.fetch(`${base}${path}?token=secret`),
    (e: Error) => re.test(e.message) && !/secret/.test(e.message),
  );

test('reads a list, following an http redirect', async () => {
  assert.equal(await f.fetch(`${base}/ok`), '0.0.0.0 ads.example\n');
  assert.equal(await f.fetch(`${base}/hop`), '0.0.0.0 ads.example\n');
});

test('refuses what is too large, redirected elsewhere, missing or slow', async () => {
  await fails('/announced-big', /larger than/);
  await fails('/streamed-big', /larger than/);
  await fails('/loop', /too many redirects/);
  await fails('/to-ftp', /redirect/);
  await fails('/to-creds', /redirect/);
  await fails('/missing', /^HTTP 404$/);
  await fails('/slow', /timed out/);
});
