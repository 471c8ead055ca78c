import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { spawnRunner } from './spawn-runner.ts';

test('runs argv (no shell) in the given directory and reports the exit status', () => {
  const script = "process.exit(process.cwd() === process.argv[1] && process.argv[2] === '$HOME;x' ? 3 : 4)";
  const r = spawnRunner.run(process.execPath, ['-e', script, tmpdir(), '$HOME;x'], { cwd: tmpdir() });
  assert.deepEqual(r, { status: 3, signal: null });
});

test('a command that cannot start reports no status, as spawnSync does', () => {
  assert.equal(spawnRunner.run('/nonexistent/pic-no-such-command', []).status, null);
});
