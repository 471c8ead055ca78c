// The rendered include files, placed where the image's unbound.conf includes them, pass the real
// `unbound-checkconf`. The base config is the repository's images/cell-dns/unbound.conf, copied to a
// temp dir with its absolute paths (include glob, directory, pidfile, root hints, keys) moved there.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultConfig } from '../../schema/config.ts';
import { goldenCases } from '../common/golden-kit.ts';
import { desiredState } from '../runtime/desired-state.ts';
import { renderBlocklistZone, renderExemptZone } from './policy-zones.ts';
import { renderUnboundCase, type UnboundCase } from './render-case.ts';

const IMAGE = join(import.meta.dirname, '..', '..', '..', 'images', 'cell-dns');
const root = mkdtempSync(join(tmpdir(), 'pic-unbound-'));
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A fresh copy of the image's unbound.conf including `files` (name → text); checkconf's verdict. */
function checkconf(files: Record<string, string>): { ok: boolean; output: string } {
  const dir = join(root, String(n++));
  mkdirSync(join(dir, 'pic'), { recursive: true });
  // Rendered files name others in the include dir (the blocklists' policy zones): move them too.
  for (const [name, text] of Object.entries(files))
    writeFileSync(join(dir, 'pic', name), text.replaceAll('"/etc/pic/unbound/', `"${dir}/pic/`));
  const conf = readFileSync(join(IMAGE, 'unbound.conf'), 'utf8')
    .replaceAll('"/etc/pic/unbound/', `"${dir}/pic/`)
    .replaceAll('"/etc/unbound/no-root.hints"', `"${IMAGE}/no-root.hints"`)
    .replaceAll('"/etc/unbound"', `"${dir}"`)
    .replaceAll('"/run/unbound/', `"${dir}/`);
  assert.doesNotMatch(conf, /"\/(etc|run|var)\//, 'every absolute path moved to the temp dir');
  writeFileSync(join(dir, 'unbound.conf'), conf);
  const r = spawnSync('unbound-checkconf', [join(dir, 'unbound.conf')], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

for (const c of goldenCases(join(import.meta.dirname, 'golden'))) {
  test(`unbound-checkconf accepts golden ${c.name}`, () => {
    const policy = 'policy' in (c.input as object);
    const r = checkconf({
      'case.conf': renderUnboundCase(c.input as UnboundCase),
      ...(policy
        ? {
            'exempt.rpz': renderExemptZone(['172.20.255.3']),
            'blocklist.rpz': renderBlocklistZone(['ads.example']),
          }
        : {}),
    });
    assert.ok(r.ok, r.output);
  });
}

test('unbound-checkconf accepts the files desiredState renders for cell-dns, together', () => {
  const config = defaultConfig();
  config.network.dns_forwarders = ['192.168.1.1', '10.9.0.53'];
  const d = desiredState({ config, env: {}, cellDir: '/opt/pic', dockerGid: 1 });
  const files = d.containers.find((s) => s.service === 'dns')!.files;
  assert.equal(files.length, 2);
  const r = checkconf(Object.fromEntries(files.map((f) => [f.path.split('/').at(-1)!, f.content])));
  assert.ok(r.ok, r.output);
});

test('unbound-checkconf refuses a broken line (the check is real)', () => {
  assert.equal(checkconf({ 'bad.conf': 'forward-zone:\n    bogus: 1\n' }).ok, false);
});
