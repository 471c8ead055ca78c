// scrypt in its child process: the same key as node:crypto's in this process, the passphrase only on
// the child's stdin (its argv and environment, readable by others in /proc, never carry it), no Node
// flag of the parent inherited, a child past its time killed, every failure a ScryptChildError that
// does not repeat the passphrase.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes, scryptSync } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ageScryptKey, SCRYPT_CHILD_SCRIPT, ScryptChildError } from './scrypt-child.ts';

const LABEL = Buffer.from('age-encryption.org/v1/scrypt');
const here = (pass: string, salt: Buffer, logN: number) =>
  scryptSync(pass, Buffer.concat([LABEL, salt]), 32, { N: 2 ** logN, r: 8, p: 1, maxmem: 2 ** 28 });

/** This process's children now (every thread's list). */
function children(): number[] {
  return readdirSync('/proc/self/task').flatMap((t) =>
    readFileSync(`/proc/self/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
  );
}

describe('scrypt in a child process', () => {
  test("the key is node:crypto's scrypt over age's label and the salt", async () => {
    for (const pass of [
      'password',
      'pässwörd ✓ with "quotes", \\ and a\nnewline',
      ' ',
      '\ud800 lone surrogate',
    ]) {
      const salt = randomBytes(16);
      assert.deepEqual(await ageScryptKey(pass, salt, 10), here(pass, salt, 10), JSON.stringify(pass));
    }
  });

  test('the passphrase is in neither the argv nor the environment of the child; no Node flag is passed', async () => {
    const pass = `secret-${randomBytes(8).toString('hex')}`;
    const before = new Set(children());
    // Were the environment inherited, the child would carry these.
    process.env.NODE_OPTIONS = '--max-semi-space-size=16';
    process.env.PIC_TEST_PASSPHRASE_MARK = pass;
    let running: Promise<Buffer>;
    try {
      running = ageScryptKey(pass, randomBytes(16), 16);
    } finally {
      delete process.env.NODE_OPTIONS;
      delete process.env.PIC_TEST_PASSPHRASE_MARK;
    }
    const pid = children().find((p) => !before.has(p));
    assert.ok(pid, 'the child is running');
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const environ = readFileSync(`/proc/${pid}/environ`);
    await running;
    assert.deepEqual(argv, [process.execPath, SCRYPT_CHILD_SCRIPT]);
    assert.equal(environ.length, 0, environ.toString());
  });

  test('a child past its time is killed: a ScryptChildError, and no process left', async () => {
    const before = new Set(children());
    const running = ageScryptKey('a passphrase', randomBytes(16), 20, { timeoutMs: 100 });
    const pid = children().find((p) => !before.has(p));
    await assert.rejects(running, (err: Error) => {
      assert.ok(err instanceof ScryptChildError);
      assert.match(err.message, /scrypt\) failed: it ran longer than 0 s and was stopped/);
      return true;
    });
    for (let i = 0; i < 50 && pid && existsSync(`/proc/${pid}`); i++) await sleep(20);
    assert.ok(!pid || !existsSync(`/proc/${pid}`), 'the child is gone');
  });

  test('a child that refuses its input or cannot start: a ScryptChildError without the passphrase', async () => {
    const pass = 'never-in-an-error-message';
    await assert.rejects(ageScryptKey(pass, randomBytes(16), 21), (err: Error) => {
      assert.ok(err instanceof ScryptChildError);
      assert.match(
        err.message,
        /exited with code 1 \(scrypt child: the work factor is not an integer from 1 to 20\)/,
      );
      assert.ok(!err.message.includes(pass));
      return true;
    });
    await assert.rejects(ageScryptKey(pass, randomBytes(15), 10), /the salt is not 16 bytes/);
    const execPath = process.execPath;
    process.execPath = '/nonexistent/node';
    try {
      await assert.rejects(ageScryptKey(pass, randomBytes(16), 10), (err: Error) => {
        assert.ok(err instanceof ScryptChildError);
        assert.match(err.message, /its process did not start \(spawn \/nonexistent\/node ENOENT\)/);
        return true;
      });
    } finally {
      process.execPath = execPath;
    }
  });

  test("the child's script is among the files cell-api's image is built with", () => {
    const root = join(import.meta.dirname, '..', '..', '..');
    const listed = spawnSync('bash', [join(root, 'scripts/api-runtime-files.sh')], { encoding: 'utf8' });
    assert.equal(listed.status, 0, listed.stderr);
    const files = listed.stdout.split('\n');
    assert.ok(files.includes(relative(root, SCRYPT_CHILD_SCRIPT)));
    assert.ok(files.includes('src/drivers/backup/scrypt-child.ts'));
  });
});
