// The built-in services' account scripts, run on this host against a temporary data folder (as the
// store runs them in the container: argv only, the password on stdin): add, change a password, list,
// remove (the folder moves aside), and refusal of bad names and of a missing password. The hashes
// are checked the way the daemons check them: passlib's bcrypt (Radicale) and crypt(3) sha512 (nginx).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';

const STORE = resolve(import.meta.dirname, '..', '..', '..', 'images', 'store');
const tmp = mkdtempSync(join(tmpdir(), 'pic-accounts-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

// Debian's python3 (with python3-bcrypt and python3-passlib, scripts/install-prereqs.sh --for test),
// not a python another tool put first on PATH.
const PATH = `/usr/bin:/bin:${process.env.PATH ?? ''}`;
const hasBcrypt = spawnSync('python3', ['-c', 'import bcrypt, passlib.hash'], { env: { PATH } }).status === 0;

function runner(script: string, env: Record<string, string>) {
  return (args: string[], stdin = '') => {
    const r = spawnSync(join(STORE, script), args, { input: stdin, env: { PATH, ...env }, encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
}

function verify(python: string, password: string, hash: string): boolean {
  const r = spawnSync('python3', ['-c', python], {
    input: `${password}\n${hash}\n`,
    env: { PATH },
    encoding: 'utf8',
  });
  return r.stdout.trim() === 'True';
}
const PASSLIB_BCRYPT =
  'import sys; from passlib.hash import bcrypt; p, h = sys.stdin.read().split("\\n")[:2]; print(bcrypt.verify(p, h))';
// openssl passwd -6 with the stored salt gives the same string when the password matches (crypt(3)).
function sha512Matches(password: string, hash: string): boolean {
  const salt = hash.split('$')[2] ?? '';
  const r = spawnSync('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], {
    input: `${password}\n`,
    encoding: 'utf8',
  });
  return r.stdout.trim() === hash;
}

function hashOf(db: string, user: string): string {
  const line = readFileSync(db, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  assert.ok(line, `${user} not in ${db}`);
  return line.slice(user.length + 1);
}

function refusals(run: ReturnType<typeof runner>): void {
  for (const bad of ['../x', 'a/b', '-x', 'A', 'a b', "a'b", 'a\nb', '.x', ''])
    assert.equal(run(['add', bad], 'pw\n').status, 2, `add ${JSON.stringify(bad)} accepted`);
  assert.equal(run(['add', 'nopass'], '').status, 2, 'add without a password on stdin');
  assert.equal(run(['add', 'a', '{password}'], 'pw\n').status, 2, 'a third argument');
  assert.equal(run(['list', 'x']).status, 2);
  assert.equal(run(['drop', 'x']).status, 2);
}

test('files: accounts with sha512-crypt hashes and a private folder each', () => {
  const data = join(tmp, 'files');
  mkdirSync(join(data, 'users'), { recursive: true });
  const run = runner('files/account.sh', {
    PIC_FILES_DATA: data,
    PIC_FILES_OWNER: String(process.getuid?.() ?? 0),
    PIC_FILES_GROUP: String(process.getgid?.() ?? 0),
  });
  assert.equal(run(['add', 'alice'], 'correct horse: battery $(id)\n').status, 0);
  assert.equal(run(['add', 'bob.smith'], 'bob pw\n').status, 0);
  assert.equal(run(['list']).stdout, 'alice\nbob.smith\n');
  const db = join(data, 'htpasswd');
  assert.ok(sha512Matches('correct horse: battery $(id)', hashOf(db, 'alice')));
  assert.ok(!sha512Matches('wrong', hashOf(db, 'alice')));
  assert.ok(existsSync(join(data, 'users', 'alice')));
  // A new password replaces the line; the account is not listed twice.
  assert.equal(run(['add', 'alice'], 'second\n').status, 0);
  assert.ok(sha512Matches('second', hashOf(db, 'alice')));
  assert.equal(run(['list']).stdout, 'bob.smith\nalice\n');
  assert.equal(run(['remove', 'alice']).status, 0);
  assert.equal(run(['list']).stdout, 'bob.smith\n');
  assert.ok(!existsSync(join(data, 'users', 'alice')), 'the folder stays reachable after removal');
  assert.match(readdirSync(join(data, 'removed')).join(), /^alice-\d+$/);
  assert.doesNotMatch(readFileSync(db, 'utf8'), /second|bob pw/);
  refusals(run);
});

test('calendar: accounts with bcrypt hashes Radicale (passlib) accepts', {
  skip: !hasBcrypt && 'python3-bcrypt/passlib missing',
}, () => {
  const data = join(tmp, 'calendar');
  mkdirSync(join(data, 'collections', 'collection-root', 'carol'), { recursive: true });
  const run = runner('calendar/account.sh', { PIC_CALENDAR_DATA: data });
  assert.equal(run(['add', 'carol'], 'carol pw; rm -rf /\n').status, 0);
  assert.equal(run(['add', 'dave'], 'dave pw\n').status, 0);
  assert.equal(run(['list']).stdout, 'carol\ndave\n');
  const db = join(data, 'users');
  assert.match(hashOf(db, 'carol'), /^\$2[by]\$10\$/);
  assert.ok(verify(PASSLIB_BCRYPT, 'carol pw; rm -rf /', hashOf(db, 'carol')));
  assert.ok(!verify(PASSLIB_BCRYPT, 'dave pw', hashOf(db, 'carol')));
  assert.equal(run(['remove', 'carol']).status, 0);
  assert.equal(run(['list']).stdout, 'dave\n');
  assert.ok(!existsSync(join(data, 'collections', 'collection-root', 'carol')));
  assert.match(readdirSync(join(data, 'removed')).join(), /^carol-\d+$/);
  refusals(run);
});
