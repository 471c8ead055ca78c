import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { HOSTILE_STRINGS } from '../../schema/hostile.ts';
import { testGoldens } from '../common/golden-kit.ts';
import { type MobileconfigInput, renderMobileconfig } from './mobileconfig.ts';

testGoldens(join(import.meta.dirname, 'golden'), (i: MobileconfigInput) => renderMobileconfig(i));

const base: MobileconfigInput = {
  cellName: 'home',
  host: 'calendar.home.cell',
  username: 'alice',
  password: 'S3cret&<pass>"word',
};

test('the password is escaped, never able to close an element', () => {
  const out = renderMobileconfig(base);
  assert.ok(out.includes('<string>S3cret&amp;&lt;pass&gt;&quot;word</string>'));
  assert.equal(out.match(/<dict>/g)?.length, 3);
});

test('the same account gives the same UUIDs (a new download replaces the profile)', () => {
  assert.equal(renderMobileconfig(base), renderMobileconfig(base));
  assert.notEqual(
    renderMobileconfig(base),
    renderMobileconfig({ ...base, username: 'bob' }).replace(/bob/g, 'alice'),
  );
});

test('hostile values are refused before rendering', () => {
  for (const bad of HOSTILE_STRINGS) {
    assert.throws(() => renderMobileconfig({ ...base, username: bad }));
    assert.throws(() => renderMobileconfig({ ...base, host: bad }));
  }
  assert.throws(() => renderMobileconfig({ ...base, password: 'two\nlines' }));
});

const hasPython = spawnSync('python3', ['-c', 'import plistlib']).status === 0;

test("Python's plistlib (Apple's format) reads the profile back", {
  skip: !hasPython && 'python3 is not installed',
}, () => {
  const out = renderMobileconfig({
    ...base,
    caPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  });
  const r = spawnSync(
    'python3',
    [
      '-c',
      "import plistlib,sys,json; d=plistlib.loads(sys.stdin.buffer.read()); print(json.dumps([p['PayloadType'] for p in d['PayloadContent']] + [d['PayloadContent'][0]['CalDAVPassword']]))",
    ],
    { input: out, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [
    'com.apple.caldav.account',
    'com.apple.carddav.account',
    'com.apple.security.root',
    base.password,
  ]);
});
