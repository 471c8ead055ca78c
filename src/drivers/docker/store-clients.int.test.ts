// The built-in calendar and files services through the maintained clients a device's apps are built
// on, not hand-written requests: tsdav (CalDAV: discovery from /.well-known, a calendar made, an event
// written and read back; another account sees none of it) and the `webdav` client (folders, files,
// a listing, a read, a move and a delete). Both run on the real engine with the manifests' settings
// (store-image-kit.ts), reached on the containers' bridge addresses as Caddy reaches them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DAVClient } from 'tsdav';
import { createClient } from 'webdav';
import { type RunningService, skipReason, startService } from './store-image-kit.ts';

const skip = await skipReason();
const EVENT = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//PIC//clients test//EN',
  'BEGIN:VEVENT',
  'UID:pic-clients-event-1',
  'DTSTAMP:20260101T090000Z',
  'DTSTART:20260105T100000Z',
  'DTEND:20260105T110000Z',
  'SUMMARY:Standup',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

describe('store services through tsdav and webdav', { skip }, () => {
  let calendar: RunningService;
  let files: RunningService;

  before(async () => {
    [calendar, files] = await Promise.all([startService('calendar'), startService('files')]);
    for (const svc of [calendar, files]) {
      await svc.hook('add', 'alice', 'alice long password');
      await svc.hook('add', 'bob', 'bob long password 2');
    }
  });
  after(async () => {
    await Promise.all([calendar?.stop(), files?.stop()]);
  });

  const dav = (username: string, password: string) =>
    new DAVClient({
      serverUrl: `http://${calendar.ip}:5232/`,
      credentials: { username, password },
      authMethod: 'Basic',
      defaultAccountType: 'caldav',
    });

  test('tsdav: discovery, a calendar and an event written and read back; bob sees none of it', async () => {
    const alice = dav('alice', 'alice long password');
    await alice.login();
    await alice.makeCalendar({
      url: `http://${calendar.ip}:5232/alice/work/`,
      props: { displayname: 'Work' },
    });
    const cals = await alice.fetchCalendars();
    const work = cals.find((c) => c.url.endsWith('/alice/work/'));
    assert.ok(work, JSON.stringify(cals.map((c) => c.url)));
    const made = await alice.createCalendarObject({
      calendar: work,
      filename: 'standup.ics',
      iCalString: EVENT,
    });
    assert.ok(made.ok, `${made.status}`);
    const objects = await alice.fetchCalendarObjects({ calendar: work });
    assert.equal(objects.length, 1);
    assert.match(String(objects[0]?.data), /SUMMARY:Standup/);

    const bob = dav('bob', 'bob long password 2');
    await bob.login();
    const bobs = await bob.fetchCalendars();
    assert.ok(!bobs.some((c) => c.url.includes('/alice/')), 'bob lists alice’s calendar');
    const peek = await bob.fetchCalendarObjects({ calendar: work }).catch(() => []);
    assert.equal(peek.length, 0, 'bob reads alice’s event');
    await assert.rejects(dav('alice', 'wrong password 123').login());
  });

  test('webdav: folders and files written, listed, read, moved and deleted; bob sees his own folder only', async () => {
    const alice = createClient(`http://${files.ip}/`, { username: 'alice', password: 'alice long password' });
    await alice.createDirectory('/docs');
    await alice.putFileContents('/docs/notes.txt', 'hello from the webdav client');
    const listed = (await alice.getDirectoryContents('/docs')) as { basename: string }[];
    assert.deepEqual(
      listed.map((e) => e.basename),
      ['notes.txt'],
    );
    assert.equal(
      await alice.getFileContents('/docs/notes.txt', { format: 'text' }),
      'hello from the webdav client',
    );
    await alice.moveFile('/docs/notes.txt', '/docs/renamed.txt');
    assert.equal(await alice.exists('/docs/notes.txt'), false);
    assert.equal(await alice.exists('/docs/renamed.txt'), true);

    const bob = createClient(`http://${files.ip}/`, { username: 'bob', password: 'bob long password 2' });
    assert.equal(await bob.exists('/docs'), false, 'bob sees alice’s folder');
    assert.equal(await bob.exists('/../alice/docs/renamed.txt'), false);

    await alice.deleteFile('/docs/renamed.txt');
    assert.deepEqual(await alice.getDirectoryContents('/docs'), []);
  });
});
