// Crash consistency: a child process rewrites a file in a loop with writeFileAtomic and is killed with
// SIGKILL at a random moment. Whatever the moment, the file must hold one complete version (old or
// new), never a torn mix; the temp file a kill leaves behind is swept at the next start.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { sweepStaleTemps } from './atomic-file.ts';

const NODE = process.execPath;
const dir = mkdtempSync(join(tmpdir(), 'pic-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Each version is JSON whose body is 512 KiB of one repeated digit and whose sum covers the body, so a
// file made of two versions (or a short one) fails to parse or fails the sum.
const WRITER = `
import { createHash } from 'node:crypto';
const [target] = process.argv.slice(2);
const { writeFileAtomic } = await import(${JSON.stringify(pathToFileURL(join(import.meta.dirname, 'atomic-file.ts')).href)});
for (let seq = 1; ; seq++) {
  const body = String(seq % 10).repeat(512 * 1024);
  const sum = createHash('sha256').update(body).digest('hex');
  writeFileAtomic(target, JSON.stringify({ seq, sum, body }));
  if (seq === 1) process.stdout.write('ready\\n');
}
`;
const script = join(dir, 'writer.mjs');
writeFileSync(script, WRITER);

function intact(path: string): boolean {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as { seq: number; sum: string; body: string };
    return createHash('sha256').update(v.body).digest('hex') === v.sum && v.body.length === 512 * 1024;
  } catch {
    return false;
  }
}

/** Starts the writer, waits until it has written once, lets it run a random while, kills it. */
async function runAndKill(target: string): Promise<void> {
  const child = spawn(NODE, [script, target], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`writer exited early (${code})`)));
  });
  await new Promise((r) => setTimeout(r, 5 + Math.random() * 60));
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

test('kill -9 during writeFileAtomic never leaves a torn file; stale temps are swept', async () => {
  const target = join(dir, 'state.json');
  let swept = 0;
  for (let i = 0; i < 25; i++) {
    await runAndKill(target);
    assert.ok(existsSync(target));
    assert.ok(intact(target), `run ${i}: the file is torn`);
    // What the next start does: sweep the temp the kill may have left.
    swept += sweepStaleTemps(dir).length;
    assert.deepEqual(readdirSync(dir).sort(), ['state.json', 'writer.mjs']);
  }
  // The writer spends most of its time between creating its temp and renaming it, so kills leave temps.
  assert.ok(swept > 0, 'at least one kill left a temp file for the sweep');
});
