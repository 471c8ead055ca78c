// A peer's calendar and files apps, run by the store end-to-end test inside a device's network
// namespace (a node:24 container started with `--network container:<device>`): it sees only what the
// device sees — the tunnel, the cell's DNS through the device's resolv.conf — and trusts the cell's
// root the way a phone does once its user installed it (NODE_EXTRA_CA_CERTS, the root the device
// downloaded through its tunnel). It gets no address, resolver or certificate exception from the test.
// The clients are the maintained libraries apps are built on: tsdav (CalDAV) and `webdav`.
//
// One job per run, as JSON in the DAV_JOB environment variable (passwords included: never argv); one
// JSON answer on stdout.
//   {"op":"caldav", server, user, pass, calendar, filename, ical}
//       → tsdav: discovery, a calendar made, an event written, both read back
//   {"op":"caldav-peek", server, user, pass, foreign}
//       → tsdav as another account: its calendars, and what it gets reading the foreign calendar
//   {"op":"webdav", server, user, pass, dir, text}
//       → webdav: a folder, a file written, listed, read, moved
//   {"op":"probe", host, user, pass, requests: [{method, path, headers?, body?}]}
//       → raw HTTPS requests with the path sent exactly as given (no client normalises `..` or
//         `%2e%2e` away): [{method, path, status, body}]
import { request } from 'node:https';
import { DAVClient } from 'tsdav';
import { createClient } from 'webdav';

interface Probe {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

interface Job {
  op: 'caldav' | 'caldav-peek' | 'webdav' | 'probe';
  server?: string;
  host?: string;
  user: string;
  pass: string;
  calendar?: string;
  filename?: string;
  ical?: string;
  foreign?: string;
  dir?: string;
  text?: string;
  requests?: Probe[];
}

const job = JSON.parse(process.env.DAV_JOB ?? '{}') as Job;
const out = (v: unknown) => process.stdout.write(`${JSON.stringify(v)}\n`);

const dav = () =>
  new DAVClient({
    serverUrl: job.server ?? '',
    credentials: { username: job.user, password: job.pass },
    authMethod: 'Basic',
    defaultAccountType: 'caldav',
  });

async function caldav(): Promise<void> {
  const client = dav();
  await client.login(); // discovery: /.well-known/caldav → principal → calendar home
  const url = new URL(`/${job.user}/${job.calendar}/`, job.server).href;
  await client.makeCalendar({ url, props: { displayname: job.calendar } });
  const calendars = await client.fetchCalendars();
  const mine = calendars.find((c) => c.url === url || c.url.endsWith(`/${job.user}/${job.calendar}/`));
  if (!mine) {
    out({ ok: false, error: 'the new calendar is not listed', calendars: calendars.map((c) => c.url) });
    return;
  }
  const made = await client.createCalendarObject({
    calendar: mine,
    filename: job.filename ?? 'event.ics',
    iCalString: job.ical ?? '',
  });
  const objects = await client.fetchCalendarObjects({ calendar: mine });
  out({
    ok: made.ok,
    status: made.status,
    calendar: mine.url,
    calendars: calendars.map((c) => c.url),
    objects: objects.map((o) => ({ url: o.url, data: String(o.data ?? '') })),
  });
}

async function caldavPeek(): Promise<void> {
  const client = dav();
  await client.login();
  const calendars = await client.fetchCalendars();
  let foreign: { objects?: string[]; error?: string };
  try {
    const objects = await client.fetchCalendarObjects({ calendar: { url: job.foreign ?? '' } });
    foreign = { objects: objects.map((o) => String(o.data ?? '')) };
  } catch (e) {
    foreign = { error: (e as Error).message };
  }
  out({ ok: true, calendars: calendars.map((c) => c.url), foreign });
}

async function webdav(): Promise<void> {
  const client = createClient(job.server ?? '', { username: job.user, password: job.pass });
  const dir = `/${job.dir}`;
  await client.createDirectory(dir);
  await client.putFileContents(`${dir}/notes.txt`, job.text ?? '');
  const listed = (await client.getDirectoryContents(dir)) as { basename: string }[];
  const read = await client.getFileContents(`${dir}/notes.txt`, { format: 'text' });
  await client.moveFile(`${dir}/notes.txt`, `${dir}/moved.txt`);
  out({
    ok: true,
    listed: listed.map((e) => e.basename),
    read,
    oldExists: await client.exists(`${dir}/notes.txt`),
    moved: await client.getFileContents(`${dir}/moved.txt`, { format: 'text' }),
    after: ((await client.getDirectoryContents(dir)) as { basename: string }[]).map((e) => e.basename),
  });
}

function one(r: Probe) {
  return new Promise<{ method: string; path: string; status: number; body: string }>((resolve, reject) => {
    const req = request(
      {
        host: job.host,
        port: 443,
        method: r.method,
        path: r.path, // as is: node sends the request target unchanged
        servername: job.host,
        auth: `${job.user}:${job.pass}`,
        headers: { ...(r.headers ?? {}) },
        timeout: 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            method: r.method,
            path: r.path,
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8').slice(0, 4000),
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(r.body);
  });
}

async function probe(): Promise<void> {
  const results = [];
  for (const r of job.requests ?? []) results.push(await one(r));
  out({ ok: true, results });
}

const ops = { caldav, 'caldav-peek': caldavPeek, webdav, probe } as const;
ops[job.op]().catch((e: Error & { status?: number }) => {
  out({ ok: false, error: e.message, status: e.status });
  process.exitCode = 1;
});
