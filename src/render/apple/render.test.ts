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

const mail: MobileconfigInput = {
  cellName: 'home',
  kind: 'mail',
  host: 'mail.home.cell',
  username: 'alice',
  address: 'alice@home.cell',
  password: 'S3cret&<pass>"word',
};

test('a mail profile needs a valid address, its own user at a domain', () => {
  const { address: _, ...noAddress } = mail;
  assert.throws(() => renderMobileconfig(noAddress));
  for (const bad of [...HOSTILE_STRINGS, 'alice@home.cell@x', 'alice@', '@home.cell', 'Alice@home.cell']) {
    assert.throws(() => renderMobileconfig({ ...mail, address: bad }), bad);
  }
});

test('the mail and calendar profiles of one peer have different identifiers (both can be installed)', () => {
  const ids = (s: string) => [...s.matchAll(/<string>([0-9A-F-]{36})<\/string>/g)].map((m) => m[1]);
  const cal = ids(renderMobileconfig(base));
  const email = ids(renderMobileconfig(mail));
  assert.ok(email.length > 0 && email.every((u) => !cal.includes(u)));
});

test('plistlib reads the mail profile: IMAPS 993, submission 587 with TLS, the address as the login', {
  skip: !hasPython && 'python3 is not installed',
}, () => {
  const r = spawnSync(
    'python3',
    [
      '-c',
      "import plistlib,sys,json; d=plistlib.loads(sys.stdin.buffer.read()); p=d['PayloadContent'][0]; print(json.dumps([p[k] for k in ['PayloadType','EmailAccountType','EmailAddress','IncomingMailServerHostName','IncomingMailServerPortNumber','IncomingMailServerUseSSL','IncomingMailServerUsername','OutgoingMailServerHostName','OutgoingMailServerPortNumber','OutgoingMailServerUseSSL','OutgoingMailServerUsername','IncomingPassword']]))",
    ],
    { input: renderMobileconfig(mail), encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [
    'com.apple.mail.managed',
    'EmailTypeIMAP',
    'alice@home.cell',
    'mail.home.cell',
    993,
    true,
    'alice@home.cell',
    'mail.home.cell',
    587,
    true,
    'alice@home.cell',
    mail.password,
  ]);
});
