// Every golden Caddy config, and the one desiredState renders for cell-caddy, passes the real
// `caddy validate` (which provisions every module without starting a listener, and so loads the
// certificate files: a throwaway self-signed pair made by openssl stands in for the cell CA's, at a
// temp path swapped in for /etc/pic/caddy-tls/); a broken one fails.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultConfig } from '../../schema/config.ts';
import { goldenCases } from '../common/golden-kit.ts';
import { desiredState } from '../runtime/desired-state.ts';
import { type CaddyConfigInput, renderCaddyConfig } from './caddy-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'pic-caddy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const tlsDir = join(dir, 'tls');
mkdirSync(tlsDir);
const made = spawnSync(
  'openssl',
  ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'].concat([
    '-subj',
    '/CN=mycell.cell',
    '-keyout',
    join(tlsDir, 'key.pem'),
    '-out',
    join(tlsDir, 'cert.pem'),
  ]),
  { encoding: 'utf8' },
);
assert.equal(made.status, 0, made.stderr);

function caddyValidates(text: string): { ok: boolean; output: string } {
  const file = join(dir, 'caddy.json');
  writeFileSync(file, text.replaceAll('"/etc/pic/caddy-tls/', `"${tlsDir}/`));
  const r = spawnSync('caddy', ['validate', '--config', file], {
    encoding: 'utf8',
    timeout: 30_000,
    // Caddy keeps its storage under XDG dirs: the temp dir, never the host's.
    env: { PATH: process.env.PATH, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
  });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

for (const c of goldenCases(join(import.meta.dirname, 'golden'))) {
  test(`caddy validate accepts golden ${c.name}`, () => {
    const r = caddyValidates(renderCaddyConfig(c.input as CaddyConfigInput).output);
    assert.ok(r.ok, r.output);
  });
}

test('caddy validate accepts the config desiredState renders for cell-caddy', () => {
  const d = desiredState({ config: defaultConfig(), env: {}, cellDir: '/opt/pic', dockerGid: 1 });
  const file = d.containers.find((s) => s.service === 'caddy')!.files[0]!;
  assert.equal(file.live, true);
  const r = caddyValidates(file.content);
  assert.ok(r.ok, r.output);
});

test('caddy validate refuses a broken config (the check is real)', () => {
  const c = JSON.parse(
    renderCaddyConfig(goldenCases(join(import.meta.dirname, 'golden'))[0]!.input as never).output,
  );
  c.apps.http.servers.https.routes[1].handle[0].handler = 'no_such_handler';
  assert.equal(caddyValidates(JSON.stringify(c)).ok, false);
});

test('caddy validate refuses a certificate file that is not there (the TLS app really loads it)', () => {
  const text = renderCaddyConfig(goldenCases(join(import.meta.dirname, 'golden'))[0]!.input as never).output;
  writeFileSync(join(dir, 'caddy.json'), text);
  const r = caddyValidates(text.replaceAll('/etc/pic/caddy-tls/cert.pem', '/etc/pic/caddy-tls/missing.pem'));
  assert.equal(r.ok, false);
  assert.match(r.output, /missing\.pem/);
});
