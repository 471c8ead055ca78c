// The front door's certificate: delivered in local mode only, for the domain and its subdomains;
// written and reloaded when the vault hands a new one (renewal, new names), left alone otherwise;
// nothing of the key in the log line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig } from '../../schema/config.ts';
import type { CaddyTlsFilesPort } from '../ports/caddy-tls-files.ts';
import type { ServerCertificate } from '../vault/vault-service.ts';
import { FrontDoorTls, frontDoorNames } from './front-door-tls.ts';

function setup() {
  let serial = 1;
  const asked: string[][] = [];
  const vault = {
    serverCertificate: async (names: string[]): Promise<ServerCertificate> => {
      asked.push(names);
      return {
        certPem: `LEAF ${serial}\n`,
        chainPem: 'INTERMEDIATE\nROOT\n',
        keyPem: `SECRET KEY ${serial}\n`,
        serial: String(serial),
        notAfter: '2030-01-01T00:00:00.000Z',
      };
    },
  };
  const disk: { chain?: string; key?: string } = {};
  const files: CaddyTlsFilesPort = {
    currentChain: () => disk.chain,
    hasKey: () => disk.key !== undefined,
    write: (chain, key) => {
      disk.chain = chain;
      disk.key = key;
    },
  };
  const reloads: string[] = [];
  const lines: string[] = [];
  const tls = new FrontDoorTls({
    vault,
    files,
    reload: async (c) => void reloads.push(c.identity.domain),
    log: (f, m) => void lines.push(JSON.stringify({ ...f, m })),
  });
  return { tls, asked, disk, reloads, lines, renew: () => serial++ };
}

test('local mode: <domain> and *.<domain>; other modes: none yet', () => {
  assert.deepEqual(frontDoorNames(defaultConfig()), ['mycell.cell', '*.mycell.cell']);
  const c = defaultConfig();
  c.identity.domain_mode = 'custom';
  c.identity.domain = 'home.example.org';
  assert.equal(frontDoorNames(c), undefined);
});

test('delivered once, then unchanged; a renewed certificate is written and Caddy reloaded', async () => {
  const { tls, asked, disk, reloads, lines, renew } = setup();
  assert.equal(await tls.ensure(defaultConfig()), 'delivered');
  assert.deepEqual(asked[0], ['mycell.cell', '*.mycell.cell']);
  assert.equal(disk.chain, 'LEAF 1\nINTERMEDIATE\nROOT\n');
  assert.equal(disk.key, 'SECRET KEY 1\n');
  assert.deepEqual(reloads, ['mycell.cell']);
  assert.equal(await tls.ensure(defaultConfig()), 'unchanged');
  assert.deepEqual(reloads, ['mycell.cell'], 'no reload for the same certificate');
  renew();
  assert.equal(await tls.ensure(defaultConfig()), 'delivered');
  assert.equal(disk.key, 'SECRET KEY 2\n');
  assert.equal(reloads.length, 2);
  assert.ok(
    lines.every((l) => !l.includes('SECRET')),
    'the key is never logged',
  );
  assert.match(lines[0]!, /"serial":"1"/);
});

test('a missing key file is delivered again; reload:false writes without reloading', async () => {
  const { tls, disk, reloads } = setup();
  await tls.ensure(defaultConfig(), { reload: false });
  assert.deepEqual(reloads, []);
  delete disk.key;
  assert.equal(await tls.ensure(defaultConfig(), { reload: false }), 'delivered');
  assert.equal(disk.key, 'SECRET KEY 1\n');
});

test('outside local mode nothing is asked of the vault', async () => {
  const { tls, asked } = setup();
  const c = defaultConfig();
  c.identity.domain_mode = 'pic_ngo';
  c.identity.domain = 'mycell.pic.ngo';
  assert.equal(await tls.ensure(c), 'not-local');
  assert.deepEqual(asked, []);
});
