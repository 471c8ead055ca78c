// `pic peers`, `pic list-peers` and `pic show-routes` as child processes on a temp data dir (no Docker:
// changes are stored and reported as waiting for the data plane); bad names are usage errors.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createCell } from '../../composition.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

function pic(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // A cell dir without .env or containers: the data plane is not reachable from here.
    execFile(
      NODE,
      [MAIN, ...args],
      { cwd: ROOT, timeout: 30_000, env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent.sock' } },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

let dir: string;
let data: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'pic-cli-peers-'));
  data = join(dir, 'data');
  createCell({ dataDir: data, background: false }).close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('add, list, config, show-routes, remove', async () => {
  const add = await pic([
    'peers',
    'add',
    'bob',
    '--data-dir',
    data,
    '--dir',
    dir,
    '--routing',
    'full',
    '--services',
    'dns,web',
  ]);
  assert.equal(add.code, 0, add.stderr);
  assert.match(add.stdout, /Added bob at 10\.0\.0\.2 \(stored; applied when the data plane runs\)/);
  assert.match(add.stdout, /password \(shown once\): \S{20}/);
  assert.match(add.stdout, /^AllowedIPs = 0\.0\.0\.0\/0$/m);
  const list = await pic(['list-peers', '--data-dir', data]);
  assert.match(list.stdout, /^bob\s+10\.0\.0\.2\s+enabled\s+full\s+dns,web\s+yes$/m);
  const cfg = await pic(['peers', 'config', 'bob', '--data-dir', data]);
  assert.match(cfg.stdout, /^\[Interface\]$/m);
  const routes = await pic(['show-routes', '--data-dir', data, '--dir', dir]);
  assert.equal(routes.code, 0, routes.stderr);
  assert.match(routes.stdout, /bob\s+10\.0\.0\.2\/32/);
  assert.doesNotMatch(routes.stdout + list.stdout, /PrivateKey|PresharedKey/);
  const rm = await pic(['peers', 'remove', 'bob', '--data-dir', data, '--dir', dir]);
  assert.equal(rm.code, 0, rm.stderr);
  const again = await pic(['peers', 'remove', 'bob', '--data-dir', data, '--dir', dir]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /Peer bob not found/);
});

test('hostile names and unknown subcommands are usage errors; nothing is stored', async () => {
  for (const bad of ['x;id', '$(id)', '../etc', 'a\nPostUp = id', '--help-me']) {
    const r = await pic(['peers', 'add', bad, '--data-dir', data, '--dir', dir]);
    assert.ok(r.code === 2 || r.code === 1, `${JSON.stringify(bad)} → ${r.code}`);
  }
  assert.equal((await pic(['peers', 'frobnicate', '--data-dir', data])).code, 2);
  const list = await pic(['peers', 'list', '--data-dir', data]);
  assert.match(list.stdout, /No peers yet/);
});
