import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { HOSTILE_STRINGS } from '../../schema/hostile.ts';
import { testGoldens } from '../common/golden-kit.ts';
import { type MailAutoconfigInput, renderMailAutoconfig } from './autoconfig.ts';

testGoldens(join(import.meta.dirname, 'golden'), (i: MailAutoconfigInput) => renderMailAutoconfig(i));

const base: MailAutoconfigInput = { domain: 'example.org', host: 'mail.example.org', cellName: 'home' };

test('hostile values are refused before rendering (no markup, no newline reaches the document)', () => {
  for (const bad of [...HOSTILE_STRINGS, 'a<b>.org', 'x"y.org', 'mail.home.cell\n<x/>']) {
    assert.throws(() => renderMailAutoconfig({ ...base, domain: bad }), bad);
    assert.throws(() => renderMailAutoconfig({ ...base, host: bad }), bad);
    assert.throws(() => renderMailAutoconfig({ ...base, cellName: bad }), bad);
  }
});

const hasPython = spawnSync('python3', ['-c', 'import xml.etree.ElementTree']).status === 0;

test('an XML parser reads IMAP 993 SSL and SMTP 587 STARTTLS with the address as the login', {
  skip: !hasPython && 'python3 is not installed',
}, () => {
  const r = spawnSync(
    'python3',
    [
      '-c',
      `import sys,json,xml.etree.ElementTree as ET
p=ET.fromstring(sys.stdin.buffer.read()).find('emailProvider')
print(json.dumps([p.get('id'),p.findtext('domain')]+[[s.tag,s.get('type')]+[s.findtext(k) for k in ('hostname','port','socketType','username')] for s in p if s.tag.endswith('Server')]))`,
    ],
    { input: renderMailAutoconfig(base), encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [
    'example.org',
    'example.org',
    ['incomingServer', 'imap', 'mail.example.org', '993', 'SSL', '%EMAILADDRESS%'],
    ['outgoingServer', 'smtp', 'mail.example.org', '587', 'STARTTLS', '%EMAILADDRESS%'],
  ]);
});
