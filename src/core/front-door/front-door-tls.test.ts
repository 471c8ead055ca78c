// The front door's certificate: what the TLS service says for the identity (the cell CA's in local
// mode, the ACME one in a public mode); written and reloaded when a new one comes (renewal, new
// names), left alone otherwise; nothing of the key in the log line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CellConfig } from '../../schema/config.ts';
import { defaultConfig } from '../../schema/config.ts';
import type { CaddyTlsFilesPort } from '../ports/caddy-tls-files.ts';
import type { ServedCertificate } from '../tls/tls-service.ts';
import { FrontDoorTls } from './front-door-tls.ts';

function setup() {
  let serial = 1;
  const asked: CellConfig['identity'][] = [];
  const certificateFor = async (identity: CellConfig['identity']): Promise<ServedCertificate> => {
    asked.push(identity);
    const acme = identity.domain_mode !== 'local';
    return {
      source: acme ? 'acme' : 'local',
      fallback: false,
      domain: identity.domain,
      names: [identity.domain, `*.${identity.domain}`],
      certPem: `LEAF ${acme ? 'ACME ' : ''}${serial}\n`,
      chainPem: 'INTERMEDIATE\nROOT\n',
      keyPem: `SECRET KEY ${serial}\n`,
      notAfter: '2030-01-01T00:00:00.000Z',
    };
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
    certificateFor,
    files,
    reload: async (c) => void reloads.push(c.identity.domain),
    log: (f, m) => void lines.push(JSON.stringify({ ...f, m })),
  });
  return { tls, asked, disk, reloads, lines, renew: () => serial++ };
}

test('delivered once, then unchanged; a renewed certificate is written and Caddy reloaded', async () => {
  const { tls, asked, disk, reloads, lines, renew } = setup();
  assert.equal(await tls.ensure(defaultConfig()), 'delivered');
  assert.equal(asked[0]?.domain, 'mycell.cell');
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
  assert.match(lines[0]!, /"names":\["mycell.cell","\*.mycell.cell"\]/);
});

test('a missing key file is delivered again; reload:false writes without reloading', async () => {
  const { tls, disk, reloads } = setup();
  await tls.ensure(defaultConfig(), { reload: false });
  assert.deepEqual(reloads, []);
  delete disk.key;
  assert.equal(await tls.ensure(defaultConfig(), { reload: false }), 'delivered');
  assert.equal(disk.key, 'SECRET KEY 1\n');
});

test('a public mode serves what the TLS service has for it (the ACME certificate)', async () => {
  const { tls, disk } = setup();
  const c = defaultConfig();
  c.identity.domain_mode = 'pic_ngo';
  c.identity.domain = 'mycell.pic.ngo';
  assert.equal(await tls.ensure(c), 'delivered');
  assert.equal(disk.chain, 'LEAF ACME 1\nINTERMEDIATE\nROOT\n');
});
