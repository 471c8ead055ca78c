// Every golden chrony.conf, and the one desiredState renders, is accepted by the real chronyd's
// parser (`chronyd -p -f FILE`); a broken line is refused, so the check does check.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultConfig } from '../../schema/config.ts';
import { goldenCases } from '../common/golden-kit.ts';
import { desiredState } from '../runtime/desired-state.ts';
import { type ChronyConfInput, renderChronyConf } from './chrony-conf.ts';

const dir = mkdtempSync(join(tmpdir(), 'pic-chrony-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function chronydParses(text: string): { ok: boolean; output: string } {
  const file = join(dir, 'chrony.conf');
  writeFileSync(file, text);
  const r = spawnSync('chronyd', ['-p', '-f', file], { encoding: 'utf8', timeout: 10_000 });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

for (const c of goldenCases(join(import.meta.dirname, 'golden'))) {
  test(`chronyd -p accepts golden ${c.name}`, () => {
    const r = chronydParses(renderChronyConf(c.input as ChronyConfInput).output);
    assert.ok(r.ok, r.output);
  });
}

test('chronyd -p accepts the chrony.conf desiredState renders for cell-ntp', () => {
  const config = defaultConfig();
  config.network.ntp_servers = ['192.168.1.1', 'time.home.example.org'];
  const d = desiredState({ config, env: {}, cellDir: '/opt/pic', dockerGid: 1 });
  const file = d.containers.find((s) => s.service === 'ntp')!.files[0]!;
  const r = chronydParses(file.content);
  assert.ok(r.ok, r.output);
});

test('chronyd -p refuses a broken line (the check is real)', () => {
  assert.equal(chronydParses(`${renderChronyConf({ servers: [], allow: [] }).output}bogus 1\n`).ok, false);
});
