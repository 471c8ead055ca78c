// The service store end to end (issue 12): from a fresh cell the owner installs Calendar and Files,
// grants them to a peer and adds its accounts; the peer's device, on a WireGuard tunnel brought up from
// the exported config unchanged, resolves the services' names through the cell's DNS, trusts the cell's
// root as a user would (downloaded through the tunnel) and does a CalDAV and a WebDAV round trip over
// HTTPS at the services' virtual IPs. A peer not granted calendar neither resolves nor reaches it; a
// store container reaches neither cell-api nor Caddy's front door; an uninstall takes the name away and
// a reinstall finds the peer's data. The device's own apps (tsdav and the `webdav` client, in a node
// container sharing the device's network namespace) do the same round trips, and another granted
// peer's credentials reach none of it by any path trick. Nothing here sends a packet off this machine.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  APP_ROOT,
  addPeer as addCellPeer,
  CELL_VPN_IP,
  caddyIp as cellCaddyIp,
  DeviceCell,
  DOMAIN,
  deviceName,
  exec,
  runDeviceApp,
  waitJob as runJob,
} from './devices.ts';
import { type ApiClient, docker, type TestCell, until } from './harness.ts';

const testbed = new DeviceCell('store');
let cell: TestCell;
let admin: ApiClient;
let confDir = '';
let hostAddress = '';
const passwords: Record<string, string> = {};
const virtualIp: Record<string, string> = {};
/** The peers' own cell logins (generated when the peer was added). */
const logins: Record<string, string> = {};

/** carol: a second peer granted both services, whose credentials try to reach alice's data. */
const carolPasswords: Record<string, string> = {};

const inDevice = (name: string, argv: string[]) => exec(deviceName(cell, name), argv);
const caddyIp = () => cellCaddyIp(cell);

/** `dig` through the tunnel at the cell's DNS: the status and the A records. */
function dig(who: string, name: string): { status?: string; a: string[] } {
  const out = inDevice(who, ['dig', '+time=2', '+tries=2', `@${CELL_VPN_IP}`, name, 'A']).stdout;
  return {
    status: /status: (\w+)/.exec(out)?.[1],
    a: [...out.matchAll(/^\S+\s+\d+\s+IN\s+A\s+(\S+)$/gm)].map((m) => m[1]!),
  };
}

/** curl in the device with the downloaded root; prints the body then the status code on a line of its own. */
function curl(
  who: string,
  args: string[],
): { code: number; body: string; stderr: string; exit: number | null } {
  const r = inDevice(who, [
    'curl',
    '-sS',
    '--max-time',
    '10',
    '--cacert',
    '/tmp/root.pem',
    '-w',
    '\n%{http_code}',
    ...args,
  ]);
  const i = r.stdout.lastIndexOf('\n');
  return {
    code: Number(r.stdout.slice(i + 1)),
    body: r.stdout.slice(0, i),
    stderr: r.stderr,
    exit: r.status,
  };
}

const waitJob = (id: string, action: 'install' | 'uninstall') => runJob(admin, id, action);

async function addPeer(name: string, services: string[]): Promise<void> {
  const password = await addCellPeer(admin, name, services);
  if (password) logins[name] = password;
}

async function startDevice(name: string): Promise<void> {
  await testbed.startDevice(name);
}

before(async () => {
  await testbed.start();
  ({ cell, admin, work: confDir, hostAddress } = testbed);
});

after(() => testbed.stop());

test('the owner installs calendar and files from the store; both run and are grantable', async () => {
  await waitJob('calendar', 'install');
  await waitJob('files', 'install');
  const g = await admin.call('GET', '/api/grantable-services');
  const ids = (g.json as { id: string; store: boolean }[]).filter((s) => s.store).map((s) => s.id);
  assert.deepEqual(ids.sort(), ['calendar', 'files'], JSON.stringify(g.json));
  const active = await admin.call('GET', '/api/services/active');
  const urls = (active.json as { services: { id: string; url: string; state: string }[] }).services;
  assert.deepEqual(urls.map((s) => [s.id, s.state, s.url]).sort(), [
    ['calendar', 'running', `https://calendar.${DOMAIN}`],
    ['files', 'running', `https://files.${DOMAIN}`],
  ]);
});

test("with services installed, the host's published ports still reach the front door (Caddy binds its cell-network address)", async () => {
  const ca = await fetch(`${cell.url}/api/vault/ca.crt`);
  assert.equal(ca.status, 200);
  const rootFile = join(confDir, 'root.pem');
  writeFileSync(rootFile, await ca.text());
  const https = spawnSync(
    'curl',
    [
      '-sS',
      '--max-time',
      '10',
      '--cacert',
      rootFile,
      '--resolve',
      `${DOMAIN}:${cell.ports.https}:${hostAddress}`,
      `https://${DOMAIN}:${cell.ports.https}/health`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(https.status, 0, https.stderr);
  assert.match(https.stdout, /"status"/);
  const http = spawnSync(
    'curl',
    [
      '-sS',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '--max-time',
      '10',
      `http://${hostAddress}:${cell.ports.http}/health`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(http.status, 0, http.stderr);
  assert.match(http.stdout, /^(200|30[178])$/);
});

test("a peer is granted both and gets an account on each (generated passwords); a second peer isn't", async () => {
  await addPeer('alice', ['dns', 'web']);
  await addPeer('bob', ['dns', 'web']);
  const grant = await admin.call('PUT', '/api/peers/alice', {
    services: ['dns', 'web', 'calendar', 'files'],
  });
  assert.equal(grant.status, 200, JSON.stringify(grant.json));
  for (const id of ['calendar', 'files']) {
    const r = await admin.call('POST', `/api/services/${id}/accounts`, { username: 'alice' });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    const { password } = r.json as { password: string };
    assert.ok(password && password.length >= 12, JSON.stringify(r.json));
    passwords[id] = password;
    const list = await admin.call('GET', `/api/services/${id}/accounts`);
    assert.match(JSON.stringify(list.json), /alice/);
  }
  await startDevice('alice');
  await startDevice('bob');
});

test('the peer, logged in to the cell from its device over the tunnel, reads its own accounts (url, username, password)', () => {
  assert.ok(logins.alice, 'alice got a generated login');
  const login = curl('alice', [
    '-c',
    '/tmp/cookies',
    '-H',
    'Content-Type: application/json',
    '--data',
    JSON.stringify({ username: 'alice', password: logins.alice }),
    `https://${DOMAIN}/api/auth/login`,
  ]);
  assert.equal(login.code, 200, `${login.body}${login.stderr}`);
  const mine = curl('alice', ['-b', '/tmp/cookies', `https://${DOMAIN}/api/peer/services`]);
  assert.equal(mine.code, 200, mine.body);
  const { accounts } = JSON.parse(mine.body) as {
    accounts: { service: string; username: string; password: string; url: string }[];
  };
  assert.deepEqual(accounts.map((a) => [a.service, a.username, a.password, a.url]).sort(), [
    ['calendar', 'alice', passwords.calendar, `https://calendar.${DOMAIN}`],
    ['files', 'alice', passwords.files, `https://files.${DOMAIN}`],
  ]);
});

test("over the tunnel, the granted peer resolves each service's name to its virtual IP through the cell's DNS", () => {
  const caddy = caddyIp();
  for (const id of ['calendar', 'files']) {
    const a = dig('alice', `${id}.${DOMAIN}`);
    assert.equal(a.status, 'NOERROR', `${id}: ${JSON.stringify(a)}`);
    assert.equal(a.a.length, 1);
    assert.notEqual(a.a[0], caddy, 'a virtual IP of its own, not the front door');
    virtualIp[id] = a.a[0]!;
  }
  assert.notEqual(virtualIp.calendar, virtualIp.files);
  // The device's own resolver (the DNS line of the exported config) gives the same answer.
  const sys = inDevice('alice', ['getent', 'hosts', `calendar.${DOMAIN}`]);
  assert.match(sys.stdout, new RegExp(`^${virtualIp.calendar!.replaceAll('.', '\\.')}\\s`), sys.stderr);
});

const EVENT = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//PIC//e2e//EN',
  'BEGIN:VEVENT',
  'UID:pic-e2e-event-1',
  'DTSTAMP:20260101T000000Z',
  'DTSTART:20260102T100000Z',
  'DTEND:20260102T110000Z',
  'SUMMARY:PIC store e2e',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

function calendarReport(): { code: number; body: string } {
  return curl('alice', [
    '-u',
    `alice:${passwords.calendar}`,
    '-X',
    'REPORT',
    '-H',
    'Depth: 1',
    '-H',
    'Content-Type: application/xml',
    '--data',
    '<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">' +
      '<D:prop><D:getetag/><C:calendar-data/></D:prop>' +
      '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter>' +
      '</C:calendar-query>',
    `https://calendar.${DOMAIN}/alice/e2e/`,
  ]);
}

test('a CalDAV round trip over HTTPS with the cell root and the account: MKCALENDAR, PUT, PROPFIND, REPORT, GET', () => {
  const base = `https://calendar.${DOMAIN}`;
  const auth = ['-u', `alice:${passwords.calendar}`];
  const noAuth = curl('alice', [`${base}/alice/`]);
  assert.equal(noAuth.code, 401, `without credentials: ${noAuth.stderr}`);
  const wrong = curl('alice', ['-u', 'alice:not-the-password', '-X', 'PROPFIND', `${base}/alice/`]);
  assert.equal(wrong.code, 401);
  const principal = curl('alice', [...auth, '-X', 'PROPFIND', '-H', 'Depth: 0', `${base}/alice/`]);
  assert.equal(principal.code, 207, `${principal.body}${principal.stderr}`);
  const mk = curl('alice', [...auth, '-X', 'MKCALENDAR', `${base}/alice/e2e/`]);
  assert.equal(mk.code, 201, `MKCALENDAR: ${mk.body}${mk.stderr}`);
  const put = curl('alice', [
    ...auth,
    '-X',
    'PUT',
    '-H',
    'Content-Type: text/calendar',
    '--data-binary',
    EVENT,
    `${base}/alice/e2e/event-1.ics`,
  ]);
  assert.equal(put.code, 201, `PUT: ${put.body}${put.stderr}`);
  const list = curl('alice', [...auth, '-X', 'PROPFIND', '-H', 'Depth: 1', `${base}/alice/e2e/`]);
  assert.equal(list.code, 207);
  assert.match(list.body, /event-1\.ics/);
  const report = calendarReport();
  assert.equal(report.code, 207, report.body);
  assert.match(report.body, /SUMMARY:PIC store e2e/);
  const get = curl('alice', [...auth, `${base}/alice/e2e/event-1.ics`]);
  assert.equal(get.code, 200);
  assert.match(get.body, /UID:pic-e2e-event-1/);
});

test('a WebDAV round trip on files over HTTPS: PUT, PROPFIND, GET, MOVE to an https:// Destination on the same host', () => {
  const base = `https://files.${DOMAIN}`;
  const auth = ['-u', `alice:${passwords.files}`];
  assert.equal(curl('alice', [`${base}/`]).code, 401, 'without credentials');
  const put = curl('alice', [
    ...auth,
    '-X',
    'PUT',
    '--data-binary',
    'hello from the tunnel',
    `${base}/e2e/hello.txt`,
  ]);
  assert.equal(put.code, 201, `PUT: ${put.body}${put.stderr}`);
  const list = curl('alice', [...auth, '-X', 'PROPFIND', '-H', 'Depth: 1', `${base}/e2e/`]);
  assert.equal(list.code, 207, list.body);
  assert.match(list.body, /hello\.txt/);
  const get = curl('alice', [...auth, `${base}/e2e/hello.txt`]);
  assert.equal(get.code, 200);
  assert.equal(get.body, 'hello from the tunnel');
  const move = curl('alice', [
    ...auth,
    '-X',
    'MOVE',
    '-H',
    `Destination: ${base}/e2e/moved.txt`,
    `${base}/e2e/hello.txt`,
  ]);
  // nginx's dav module answers a MOVE 204 even to a new name (RFC 4918 says 201); clients take any 2xx.
  assert.ok([201, 204].includes(move.code), `MOVE: ${move.code} ${move.body}${move.stderr}`);
  assert.equal(curl('alice', [...auth, `${base}/e2e/hello.txt`]).code, 404);
  const moved = curl('alice', [...auth, `${base}/e2e/moved.txt`]);
  assert.equal(moved.code, 200);
  assert.equal(moved.body, 'hello from the tunnel');
});

/**
 * The peer's calendar and files apps (test/e2e/peer/dav-client.ts) in the device's network namespace
 * (runDeviceApp), trusting the root the device downloaded through its tunnel as an extra CA.
 */
function davApp(who: string, job: Record<string, unknown>): Record<string, unknown> {
  return runDeviceApp(cell, who, {
    script: 'dav-client.ts',
    jobVariable: 'DAV_JOB',
    job,
    dir: confDir,
    env: { NODE_EXTRA_CA_CERTS: APP_ROOT },
  });
}

const APP_EVENT = EVENT.replace('UID:pic-e2e-event-1', 'UID:pic-e2e-app-event').replace(
  'SUMMARY:PIC store e2e',
  'SUMMARY:From the app over the tunnel',
);

test("a second peer, carol, is granted both with accounts of her own; her device's tunnel comes up", async () => {
  await addPeer('carol', ['dns', 'web']);
  const grant = await admin.call('PUT', '/api/peers/carol', {
    services: ['dns', 'web', 'calendar', 'files'],
  });
  assert.equal(grant.status, 200, JSON.stringify(grant.json));
  for (const id of ['calendar', 'files']) {
    const r = await admin.call('POST', `/api/services/${id}/accounts`, { username: 'carol' });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    carolPasswords[id] = (r.json as { password: string }).password;
  }
  await startDevice('carol');
});

test("tsdav from alice's device over the tunnel: discovery, a calendar and an event made and read back", () => {
  const r = davApp('alice', {
    op: 'caldav',
    server: `https://calendar.${DOMAIN}/`,
    user: 'alice',
    pass: passwords.calendar,
    calendar: 'apps',
    filename: 'app-event.ics',
    ical: APP_EVENT,
  });
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal(r.calendar, `https://calendar.${DOMAIN}/alice/apps/`);
  const objects = r.objects as { url: string; data: string }[];
  assert.equal(objects.length, 1, JSON.stringify(objects));
  assert.match(objects[0]!.data, /SUMMARY:From the app over the tunnel/);
  assert.match(objects[0]!.url, /\/alice\/apps\/app-event\.ics$/);
});

test("the webdav client from alice's device over the tunnel: a folder, a file written, listed, read and moved", () => {
  const r = davApp('alice', {
    op: 'webdav',
    server: `https://files.${DOMAIN}/`,
    user: 'alice',
    pass: passwords.files,
    dir: 'apps',
    text: 'alice secret from the app',
  });
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.deepEqual(r.listed, ['notes.txt']);
  assert.equal(r.read, 'alice secret from the app');
  assert.equal(r.oldExists, false);
  assert.equal(r.moved, 'alice secret from the app');
  assert.deepEqual(r.after, ['moved.txt']);
});

test("carol's credentials, from carol's device, reach neither alice's calendar nor her files by any path trick", () => {
  const peek = davApp('carol', {
    op: 'caldav-peek',
    server: `https://calendar.${DOMAIN}/`,
    user: 'carol',
    pass: carolPasswords.calendar,
    foreign: `https://calendar.${DOMAIN}/alice/apps/`,
  });
  assert.equal(peek.ok, true, JSON.stringify(peek));
  assert.ok(
    !(peek.calendars as string[]).some((u) => u.includes('/alice/')),
    `carol lists alice's calendars: ${JSON.stringify(peek)}`,
  );
  const seen = (peek.foreign as { objects?: string[] }).objects ?? [];
  assert.ok(
    !seen.some((d) => d.includes('From the app')),
    `carol reads alice's event: ${JSON.stringify(peek)}`,
  );

  const report =
    '<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">' +
    '<D:prop><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>';
  const event = 'alice/apps/app-event.ics';
  const calendarPaths = [
    `/${event}`,
    `/carol/../${event}`,
    `/carol/%2e%2e/${event}`,
    `/carol/%2E%2E/${event}`,
    `/carol/..%2f${event}`,
    `/carol/%2e%2e%2f${event}`,
    `//${event}`,
    `/%61lice/apps/app-event.ics`,
    `/./${event}`,
    `/carol/./../${event}`,
  ];
  const cal = davApp('carol', {
    op: 'probe',
    host: `calendar.${DOMAIN}`,
    user: 'carol',
    pass: carolPasswords.calendar,
    requests: [
      // The control: carol's credentials do work, on her own collection.
      { method: 'PROPFIND', path: '/carol/', headers: { depth: '0' } },
      ...calendarPaths.map((path) => ({ method: 'GET', path })),
      { method: 'PROPFIND', path: '/alice/', headers: { depth: '1' } },
      { method: 'PROPFIND', path: '/carol/../alice/apps/', headers: { depth: '1' } },
      {
        method: 'REPORT',
        path: '/alice/apps/',
        headers: { depth: '1', 'content-type': 'application/xml' },
        body: report,
      },
      { method: 'REPORT', path: '/carol/%2e%2e/alice/apps/', headers: { depth: '1' }, body: report },
      { method: 'DELETE', path: `/carol/%2e%2e/${event}` },
    ],
  });
  assert.equal(cal.ok, true, JSON.stringify(cal));
  const filePaths = [
    '/alice/apps/moved.txt',
    '/../alice/apps/moved.txt',
    '/%2e%2e/alice/apps/moved.txt',
    '/%2E%2E/alice/apps/moved.txt',
    '/..%2falice/apps/moved.txt',
    '/%2e%2e%2falice%2fapps%2fmoved.txt',
    '/apps/../../alice/apps/moved.txt',
    '//../alice/apps/moved.txt',
    '/.%2e/alice/apps/moved.txt',
    '/..\\alice\\apps\\moved.txt',
    '/%5c..%5calice/apps/moved.txt',
  ];
  const files = davApp('carol', {
    op: 'probe',
    host: `files.${DOMAIN}`,
    user: 'carol',
    pass: carolPasswords.files,
    requests: [
      { method: 'PROPFIND', path: '/', headers: { depth: '0' } },
      ...filePaths.map((path) => ({ method: 'GET', path })),
      { method: 'PROPFIND', path: '/../alice/apps/', headers: { depth: '1' } },
      { method: 'PROPFIND', path: '/%2e%2e/alice/', headers: { depth: '1' } },
      // A MOVE of alice's file, named by a climbing source or a climbing Destination.
      {
        method: 'MOVE',
        path: '/../alice/apps/moved.txt',
        headers: { destination: `https://files.${DOMAIN}/stolen.txt` },
      },
      {
        method: 'COPY',
        path: '/%2e%2e/alice/apps/moved.txt',
        headers: { destination: `https://files.${DOMAIN}/stolen.txt` },
      },
    ],
  });
  assert.equal(files.ok, true, JSON.stringify(files));
  type Answer = { method: string; path: string; status: number; body: string };
  const [calControl, ...calTricks] = cal.results as Answer[];
  const [filesControl, ...fileTricks] = files.results as Answer[];
  assert.equal(calControl?.status, 207, `carol's own calendar home: ${JSON.stringify(calControl)}`);
  assert.equal(filesControl?.status, 207, `carol's own folder: ${JSON.stringify(filesControl)}`);
  const all = [...calTricks, ...fileTricks];
  // Refused for what they are (forbidden, not found, malformed), not for a wrong password.
  assert.ok(
    all.every((r) => r.status !== 401),
    all.map((r) => `${r.status} ${r.method} ${r.path}`).join('\n'),
  );
  for (const r of all) {
    assert.ok(
      r.status >= 400,
      `${r.method} ${r.path} answered ${r.status} to carol's credentials: ${r.body.slice(0, 300)}`,
    );
    assert.doesNotMatch(
      r.body,
      /From the app over the tunnel|alice secret from the app/,
      `${r.method} ${r.path}`,
    );
  }
  // And alice still has both (the DELETE and MOVE above took nothing away).
  const again = davApp('alice', {
    op: 'caldav-peek',
    server: `https://calendar.${DOMAIN}/`,
    user: 'alice',
    pass: passwords.calendar,
    foreign: `https://calendar.${DOMAIN}/alice/apps/`,
  });
  assert.ok(
    ((again.foreign as { objects?: string[] }).objects ?? []).some((d) => d.includes('From the app')),
    JSON.stringify(again),
  );
  const still = davApp('alice', {
    op: 'probe',
    host: `files.${DOMAIN}`,
    user: 'alice',
    pass: passwords.files,
    requests: [{ method: 'GET', path: '/apps/moved.txt' }],
  });
  const [mine] = still.results as { status: number; body: string }[];
  assert.equal(mine?.status, 200, JSON.stringify(still));
  assert.equal(mine?.body, 'alice secret from the app');
});

test('a peer not granted calendar gets NXDOMAIN for its name and no TCP connection to its virtual IP', () => {
  assert.deepEqual(dig('bob', `calendar.${DOMAIN}`), { status: 'NXDOMAIN', a: [] });
  assert.deepEqual(dig('bob', `files.${DOMAIN}`), { status: 'NXDOMAIN', a: [] });
  for (const port of [443, 80]) {
    const r = inDevice('bob', [
      'curl',
      '-sS',
      '-o',
      '/dev/null',
      '--connect-timeout',
      '3',
      `http://${virtualIp.calendar}:${port}/`,
    ]);
    // 7: refused (the firewall's REJECT), 28: timed out. Never an HTTP answer.
    assert.ok(
      r.status === 7 || r.status === 28,
      `bob reached ${virtualIp.calendar}:${port}: ${r.status} ${r.stderr}`,
    );
  }
  // Nor through the front door with the service's name (the front door serves only the cell's UI).
  const front = curl('bob', [
    '--resolve',
    `calendar.${DOMAIN}:443:${caddyIp()}`,
    '-u',
    `alice:${passwords.calendar}`,
    `https://calendar.${DOMAIN}/alice/e2e/event-1.ics`,
  ]);
  assert.doesNotMatch(front.body, /pic-e2e-event-1/);
});

test("from inside a store container: neither cell-api nor Caddy's front door is reachable, and no Caddy admin socket", () => {
  const container = `${cell.prefix}cell-calendar_radicale`;
  const svcNet = `${cell.prefix}cell-svc-calendar`;
  const apiIp = docker([
    'inspect',
    '-f',
    `{{(index .NetworkSettings.Networks "${cell.prefix}cell-network").IPAddress}}`,
    cell.name('api'),
  ]).trim();
  const caddyOnSvc = docker([
    'inspect',
    '-f',
    `{{(index .NetworkSettings.Networks "${svcNet}").IPAddress}}`,
    cell.name('caddy'),
  ]).trim();
  assert.match(caddyOnSvc, /^\d+\.\d+\.\d+\.\d+$/, 'Caddy joined the service network');
  const targets: [string, number][] = [
    [apiIp, 3000],
    [caddyOnSvc, 443],
    [caddyOnSvc, 80],
    [caddyOnSvc, 8081],
    [caddyOnSvc, 2019],
    [caddyOnSvc, 20000 + Number(virtualIp.calendar!.split('.')[3])],
    [caddyIp(), 443],
    [caddyIp(), 80],
  ];
  const probe = [
    'import socket, sys',
    'for t in sys.argv[1:]:',
    '    h, p = t.rsplit(":", 1)',
    '    s = socket.socket(); s.settimeout(2)',
    '    try:',
    '        s.connect((h, int(p))); print("OPEN", t)',
    '    except Exception as e:',
    '        print("closed", t, type(e).__name__)',
    '    finally:',
    '        s.close()',
  ].join('\n');
  const r = exec(container, ['python3', '-c', probe, ...targets.map(([h, p]) => `${h}:${p}`)]);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /OPEN/, r.stdout);
  assert.equal(r.stdout.trim().split('\n').length, targets.length, r.stdout);
  // Its own upstream is what Caddy dials: the container answers on its port (sanity of the probe).
  const self = exec(container, ['python3', '-c', probe, '127.0.0.1:5232']);
  assert.match(self.stdout, /OPEN/);
  // Caddy's admin socket lives in a directory only cell-caddy and cell-api mount.
  const mounts = JSON.parse(docker(['inspect', '-f', '{{json .Mounts}}', cell.name('caddy')])) as {
    Destination: string;
  }[];
  const adminDir = mounts.map((m) => m.Destination).find((d) => d.startsWith('/run/'));
  const paths = [adminDir ?? '/run/caddy', '/var/run/docker.sock'];
  const seen = exec(container, [
    'python3',
    '-c',
    'import os, sys\nfor p in sys.argv[1:]: print(p, os.path.exists(p))',
    ...paths,
  ]);
  for (const p of paths) assert.match(seen.stdout, new RegExp(`^${p} False$`, 'm'), seen.stdout);
  const svcMounts = docker(['inspect', '-f', '{{json .Mounts}}', container]);
  assert.doesNotMatch(svcMounts, /caddy|docker\.sock/, svcMounts);
});

test("uninstalling calendar takes its name and grant away; reinstalling finds the peer's event", async () => {
  await waitJob('calendar', 'uninstall');
  await until('calendar to leave the zone', async () =>
    dig('alice', `calendar.${DOMAIN}`).status === 'NXDOMAIN' ? true : undefined,
  );
  // Nor is its virtual IP answered any more (no DNAT, no Caddy server behind it).
  const gone = inDevice('alice', [
    'curl',
    '-sS',
    '-o',
    '/dev/null',
    '--connect-timeout',
    '3',
    `http://${virtualIp.calendar}/`,
  ]);
  assert.ok(gone.status === 7 || gone.status === 28, `calendar's address still answers: ${gone.status}`);
  const g = await admin.call('GET', '/api/grantable-services');
  assert.ok(!(g.json as { id: string }[]).some((s) => s.id === 'calendar'), JSON.stringify(g.json));
  assert.equal(dig('alice', `files.${DOMAIN}`).status, 'NOERROR', 'files stays');
  await waitJob('calendar', 'install');
  await until('calendar to come back in the zone', async () =>
    dig('alice', `calendar.${DOMAIN}`).a[0] === virtualIp.calendar ? true : undefined,
  );
  const report = await until('the event to be served again', async () => {
    const r = calendarReport();
    return r.code === 207 ? r : undefined;
  });
  assert.match(report.body, /SUMMARY:PIC store e2e/);
});
