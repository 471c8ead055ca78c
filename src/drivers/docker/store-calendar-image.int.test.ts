// The built-in calendar service (images/store/calendar: Radicale from Debian) built with buildImage
// and run on the real engine with its manifest's settings (uid 932, read-only root, no capability,
// 128 MB). Accounts come from the manifest's hooks (password on stdin); over CalDAV/CardDAV (plain
// HTTP on the container's bridge address, as Caddy reaches it) alice makes a calendar, an event and
// an address book and reads them back; bob can neither read nor write alice's; a wrong password is
// 401; a removed account can no longer log in. Idle memory is checked against the goal (40 MB).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildImage } from './build-image.ts';
import { engine, type RunningService, request, skipReason, startService } from './store-image-kit.ts';

const skip = await skipReason();
const PORT = 5232;
const ALICE = 'alice:correct horse battery';
const BOB = 'bob:another long password';
const EVENT = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//PIC//test//EN',
  'BEGIN:VEVENT',
  'UID:pic-test-event-1',
  'DTSTAMP:20260101T090000Z',
  'DTSTART:20260102T100000Z',
  'DTEND:20260102T110000Z',
  'SUMMARY:Dentist at ten',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');
const CARD = ['BEGIN:VCARD', 'VERSION:3.0', 'UID:pic-test-card-1', 'FN:Carol Example', 'END:VCARD', ''].join(
  '\r\n',
);
const XML = { 'content-type': 'application/xml; charset=utf-8' };

describe('store image: calendar (Radicale)', { skip }, () => {
  let svc: RunningService;
  const dav = (method: string, path: string, auth: string, headers?: Record<string, string>, body?: string) =>
    request(svc.ip, PORT, method, path, { auth, ...(headers ? { headers } : {}), ...(body ? { body } : {}) });

  before(async () => {
    svc = await startService('calendar');
    await svc.hook('add', 'alice', ALICE.split(':')[1]);
    await svc.hook('add', 'bob', BOB.split(':')[1]);
  });
  after(async () => {
    await svc?.stop();
  });

  test('runs as uid 932 only, read-only root, no capability; the health check passes', async () => {
    const procs = await svc.processes();
    assert.ok(procs.length > 0);
    for (const [uid, cmd] of procs) assert.equal(uid, '932', `${cmd} runs as ${uid}`);
    const r = await svc.exec(['/usr/local/bin/pic-calendar-healthcheck']);
    assert.equal(r.exitCode, 0, r.stdout);
    const w = await svc.exec(['touch', '/etc/pic-test']);
    assert.notEqual(w.exitCode, 0, 'the root file system is writable');
    const caps = await svc.exec(['grep', '^CapEff', '/proc/1/status']);
    assert.match(caps.stdout, /CapEff:\s+0+$/m);
    assert.ok(svc.image.id.startsWith('sha256:'), svc.image.id);
  });

  test('building again with the same inputs reuses the image (same ID, no build)', async () => {
    const again = await buildImage(engine.docker, { context: svc.context, tag: svc.image.tag });
    assert.deepEqual(again, { ...svc.image, built: false });
  });

  test('the list hook names both accounts; the users file holds bcrypt hashes only', async () => {
    assert.deepEqual((await svc.hook('list')).trim().split('\n').sort(), ['alice', 'bob']);
    const users = (await svc.exec(['cat', '/var/lib/radicale/users'])).stdout;
    for (const line of users.trim().split('\n')) assert.match(line, /^[a-z]+:\$2b\$10\$/);
    assert.doesNotMatch(users, /correct horse|another long/);
  });

  test('alice creates a calendar and an event and reads them back', async () => {
    const principal = await dav('PROPFIND', '/alice/', ALICE, { depth: '0', ...XML });
    assert.equal(principal.status, 207, principal.body);
    const mk = await dav(
      'MKCALENDAR',
      '/alice/work/',
      ALICE,
      XML,
      '<?xml version="1.0"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">' +
        '<D:set><D:prop><D:displayname>Work</D:displayname></D:prop></D:set></C:mkcalendar>',
    );
    assert.equal(mk.status, 201, mk.body);
    const put = await dav(
      'PUT',
      '/alice/work/event-1.ics',
      ALICE,
      { 'content-type': 'text/calendar' },
      EVENT,
    );
    assert.equal(put.status, 201, put.body);

    const list = await dav('PROPFIND', '/alice/', ALICE, { depth: '1', ...XML });
    assert.equal(list.status, 207);
    assert.match(list.body, /\/alice\/work\//);
    assert.match(list.body, /Work/);
    const report = await dav(
      'REPORT',
      '/alice/work/',
      ALICE,
      { depth: '1', ...XML },
      '<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">' +
        '<D:prop><D:getetag/><C:calendar-data/></D:prop>' +
        '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter>' +
        '</C:calendar-query>',
    );
    assert.equal(report.status, 207, report.body);
    assert.match(report.body, /UID:pic-test-event-1/);
    assert.match(report.body, /SUMMARY:Dentist at ten/);
    const get = await dav('GET', '/alice/work/event-1.ics', ALICE);
    assert.equal(get.status, 200);
    assert.match(get.body, /SUMMARY:Dentist at ten/);
  });

  test('alice keeps an address book (CardDAV)', async () => {
    const mk = await dav(
      'MKCOL',
      '/alice/contacts/',
      ALICE,
      XML,
      '<?xml version="1.0"?><D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop>' +
        '<D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>',
    );
    assert.equal(mk.status, 201, mk.body);
    const put = await dav('PUT', '/alice/contacts/carol.vcf', ALICE, { 'content-type': 'text/vcard' }, CARD);
    assert.equal(put.status, 201, put.body);
    const get = await dav('GET', '/alice/contacts/carol.vcf', ALICE);
    assert.equal(get.status, 200);
    assert.match(get.body, /FN:Carol Example/);
  });

  test('bob can neither read nor write alice’s collections', async () => {
    const tries: Array<[string, string, Record<string, string>?, string?]> = [
      ['PROPFIND', '/alice/', { depth: '1', ...XML }],
      ['PROPFIND', '/alice/work/', { depth: '1', ...XML }],
      ['GET', '/alice/work/event-1.ics'],
      ['GET', '/alice/contacts/carol.vcf'],
      [
        'REPORT',
        '/alice/work/',
        { depth: '1', ...XML },
        '<C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav"/>',
      ],
      ['PUT', '/alice/work/bob.ics', { 'content-type': 'text/calendar' }, EVENT.replace('event-1', 'bob')],
      ['DELETE', '/alice/work/event-1.ics'],
      ['MKCALENDAR', '/alice/bobs/'],
      ['GET', '/bob/../alice/work/event-1.ics'],
      ['GET', '/bob/%2e%2e/alice/work/event-1.ics'],
    ];
    for (const [method, path, headers, body] of tries) {
      const r = await dav(method, path, BOB, headers, body);
      assert.ok([403, 404].includes(r.status), `bob ${method} ${path}: ${r.status}`);
      assert.doesNotMatch(r.body, /Dentist|Carol/, `bob ${method} ${path} leaked alice's data`);
    }
    const still = await dav('GET', '/alice/work/event-1.ics', ALICE);
    assert.equal(still.status, 200);
    for (const path of ['/', '/bob/']) {
      const own = await dav('PROPFIND', path, BOB, { depth: '1', ...XML });
      assert.equal(own.status, 207, `bob PROPFIND ${path}`);
      assert.doesNotMatch(own.body, /alice/, `bob PROPFIND ${path} names alice's collections`);
    }
  });

  test('a wrong password, an unknown user and no credentials are 401', async () => {
    for (const auth of ['alice:wrong', 'mallory:correct horse battery', '']) {
      const r = await dav('PROPFIND', '/alice/', auth, { depth: '0', ...XML });
      assert.equal(r.status, 401, `"${auth}": ${r.status}`);
    }
  });

  test('remove: bob disappears from the list and can no longer log in', async () => {
    await svc.hook('remove', 'bob');
    assert.deepEqual((await svc.hook('list')).trim().split('\n'), ['alice']);
    const r = await dav('PROPFIND', '/bob/', BOB, { depth: '0', ...XML });
    assert.equal(r.status, 401);
    const a = await dav('GET', '/alice/work/event-1.ics', ALICE);
    assert.equal(a.status, 200);
  });

  test('idle memory is within the goal (40 MB)', async (t) => {
    const mib = await svc.memoryMiB();
    t.diagnostic(`calendar idle memory: ${mib.toFixed(1)} MiB`);
    assert.ok(mib <= 40, `${mib.toFixed(1)} MiB`);
  });
});
