import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createCell } from './composition.ts';

const root = mkdtempSync(join(tmpdir(), 'pic-cell-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('a new cell: data, secrets and logs dirs 0700; database and log files 0600', () => {
  const cell = createCell({ dataDir: join(root, 'a', 'data') });
  try {
    for (const dir of [cell.paths.data, cell.paths.secrets, cell.paths.logs])
      assert.equal(statSync(dir).mode & 0o777, 0o700, dir);
    assert.equal(statSync(cell.paths.db).mode & 0o777, 0o600);
    assert.equal(statSync(join(cell.paths.logs, 'api.log')).mode & 0o777, 0o600);
  } finally {
    cell.close();
  }
});

test('an existing data dir with loose modes is tightened to 0700', () => {
  const data = join(root, 'b', 'data');
  mkdirSync(join(data, 'secrets'), { recursive: true, mode: 0o755 });
  const cell = createCell({ dataDir: data });
  cell.close();
  assert.equal(statSync(data).mode & 0o777, 0o700);
  assert.equal(statSync(join(data, 'secrets')).mode & 0o777, 0o700);
});

test('temp files left by a crash are swept at start, unless the caller opts out', () => {
  const data = join(root, 'c', 'data');
  createCell({ dataDir: data }).close();
  const stale = join(data, 'secrets', '.pic-tmp-key.abc123');
  writeFileSync(stale, 'half a key');
  const quiet = createCell({ dataDir: data, sweepTemps: false });
  quiet.close();
  assert.ok(existsSync(stale), 'short-lived commands leave a live writer alone');
  const cell = createCell({ dataDir: data });
  cell.close();
  assert.deepEqual(cell.sweptTemps, [stale]);
  assert.ok(!existsSync(stale));
});
