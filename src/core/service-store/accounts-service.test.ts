import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AppError } from '../errors.ts';
import type {
  AccountTarget,
  ServiceAccountRow,
  ServiceAccountsRepository,
} from '../ports/service-accounts.ts';
import { AccountsService } from './accounts-service.ts';

const CALENDAR: AccountTarget = {
  serviceId: 'calendar',
  name: 'Calendar and Contacts',
  container: 'cell-calendar_radicale',
  url: 'https://calendar.home.cell',
  domain: 'home.cell',
  dnsName: null,
  hooks: {
    container: 'radicale',
    add: ['/bin/acct', 'add', '{username}'],
    remove: ['/bin/acct', 'remove', '{username}'],
    list: ['/bin/acct', 'list'],
  },
};

const EMAIL: AccountTarget = {
  serviceId: 'email',
  name: 'Email',
  container: 'cell-email_mail',
  url: null,
  domain: 'home.cell',
  dnsName: 'mail.home.cell',
  hooks: {
    container: 'mail',
    add: ['/bin/acct', 'add', '{username}'],
    remove: ['/bin/acct', 'remove', '{username}'],
    list: ['/bin/acct', 'list'],
  },
};

function memoryRepo(): ServiceAccountsRepository {
  const rows: ServiceAccountRow[] = [];
  const find = (s: string, u: string) => rows.findIndex((r) => r.serviceId === s && r.username === u);
  return {
    list: (s) => rows.filter((r) => r.serviceId === s),
    get: (s, u) => rows[find(s, u)],
    ofUser: (u) => rows.filter((r) => r.username === u),
    usernames: () => [...new Set(rows.map((r) => r.username))],
    put: (r) => void rows.push(r),
    delete: (s, u) => {
      const i = find(s, u);
      if (i >= 0) rows.splice(i, 1);
    },
  };
}

function kit(opts: { installed?: boolean; failAdd?: boolean; email?: boolean } = {}) {
  const calls: { container: string; argv: string[]; stdin?: string }[] = [];
  const users = new Set<string>();
  const peers = new Set(['alice', 'bob']);
  const svc = new AccountsService({
    repo: memoryRepo(),
    peerExists: (n) => peers.has(n),
    targets: {
      target: (id) =>
        id === 'email'
          ? opts.email
            ? EMAIL
            : 'not_installed'
          : id !== 'calendar'
            ? 'unknown'
            : opts.installed === false
              ? 'not_installed'
              : CALENDAR,
      all: () => [...(opts.installed === false ? [] : [CALENDAR]), ...(opts.email ? [EMAIL] : [])],
    },
    hooks: {
      async run(container, argv, stdin) {
        calls.push({ container, argv, ...(stdin !== undefined ? { stdin } : {}) });
        if (argv[1] === 'add') {
          if (opts.failAdd) return { exitCode: 1, stdout: '', stderr: 'disk full\n' };
          users.add(argv[2]!);
        }
        if (argv[1] === 'remove') users.delete(argv[2]!);
        return { exitCode: 0, stdout: [...users].join('\n'), stderr: '' };
      },
    },
  });
  return { svc, calls, users, peers };
}

test('a generated password is shown once, sent on stdin only, and the peer reads it on its dashboard', async () => {
  const { svc, calls } = kit();
  const made = await svc.add('calendar', { username: 'alice' });
  assert.equal(made.generated, true);
  assert.equal(made.password?.length, 24);
  const add = calls.find((c) => c.argv[1] === 'add')!;
  assert.deepEqual(add.argv, ['/bin/acct', 'add', 'alice']);
  assert.equal(add.stdin, `${made.password}\n`);
  assert.ok(!calls.some((c) => c.argv.some((a) => a.includes(made.password!))));
  const listed = await svc.list('calendar');
  assert.deepEqual(
    listed.accounts.map((a) => [a.username, a.in_service]),
    [['alice', true]],
  );
  assert.ok(!JSON.stringify(listed).includes(made.password!));
  assert.deepEqual(svc.mine('alice').accounts, [
    {
      service: 'calendar',
      name: 'Calendar and Contacts',
      username: 'alice',
      password: made.password,
      url: 'https://calendar.home.cell',
      client: {
        servers: [
          { protocol: 'caldav', host: 'calendar.home.cell', port: 443, security: 'tls', username: 'alice' },
          { protocol: 'carddav', host: 'calendar.home.cell', port: 443, security: 'tls', username: 'alice' },
        ],
        profile: '/api/peer/services/calendar/mobileconfig',
      },
    },
  ]);
  assert.deepEqual(svc.mine('bob').accounts, []);
});

test("the owner's own password is used and not echoed back", async () => {
  const { svc, calls } = kit();
  const made = await svc.add('calendar', { username: 'bob', password: 'a-long-enough-pass' });
  assert.equal(made.generated, false);
  assert.equal(made.password, undefined);
  assert.equal(calls.at(-1)?.stdin, 'a-long-enough-pass\n');
});

test('refusals: unknown service 404, not installed 409, not a peer 400, twice 409, a failing hook 503 naming its reason', async () => {
  const code = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      return (err as AppError).status;
    }
    return 0;
  };
  const { svc } = kit();
  assert.equal(await code((async () => svc.add('mail', { username: 'alice' }))()), 404);
  assert.equal(
    await code((async () => kit({ installed: false }).svc.add('calendar', { username: 'alice' }))()),
    409,
  );
  assert.equal(await code((async () => svc.add('calendar', { username: 'carol' }))()), 400);
  await svc.add('calendar', { username: 'alice' });
  assert.equal(await code((async () => svc.add('calendar', { username: 'alice' }))()), 409);
  assert.equal(await code((async () => svc.remove('calendar', 'bob'))()), 404);
  const failing = kit({ failAdd: true }).svc;
  await assert.rejects(failing.add('calendar', { username: 'alice' }), (e: AppError) => {
    assert.equal(e.status, 503);
    assert.match(e.message, /disk full/);
    return true;
  });
  assert.deepEqual((await failing.list('calendar')).accounts, []);
});

test("a deleted peer's accounts are removed from every service, then forgotten", async () => {
  const { svc, users, peers } = kit();
  await svc.add('calendar', { username: 'alice' });
  await svc.add('calendar', { username: 'bob' });
  peers.delete('bob');
  await svc.removeOrphans();
  assert.deepEqual([...users], ['alice']);
  assert.deepEqual(
    (await svc.list('calendar')).accounts.map((a) => a.username),
    ['alice'],
  );
});

test("a device profile carries the peer's own calendar account, and only for the calendar", async () => {
  const { svc } = kit();
  const made = await svc.add('calendar', { username: 'alice' });
  const profile = svc.appleProfile('alice', 'calendar', 'home', undefined);
  assert.ok(profile.includes('<string>calendar.home.cell</string>'));
  assert.ok(profile.includes(`<string>${made.password}</string>`));
  assert.throws(
    () => svc.appleProfile('bob', 'calendar', 'home', undefined),
    (e: AppError) => e.status === 404,
  );
});

test('an email account: the address, IMAPS 993 and submission 587 at mail.<domain>, the address as login', async () => {
  const { svc } = kit({ email: true });
  const made = await svc.add('email', { username: 'alice' });
  const mine = svc.mine('alice').accounts.find((a) => a.service === 'email');
  assert.deepEqual(mine, {
    service: 'email',
    name: 'Email',
    username: 'alice',
    password: made.password,
    url: null,
    client: {
      address: 'alice@home.cell',
      servers: [
        { protocol: 'imap', host: 'mail.home.cell', port: 993, security: 'tls', username: 'alice@home.cell' },
        {
          protocol: 'smtp',
          host: 'mail.home.cell',
          port: 587,
          security: 'starttls',
          username: 'alice@home.cell',
        },
      ],
      profile: '/api/peer/services/email/mobileconfig',
    },
  });
  const profile = svc.appleProfile('alice', 'email', 'home', undefined);
  assert.ok(profile.includes('<string>com.apple.mail.managed</string>'));
  assert.ok(profile.includes('<string>alice@home.cell</string>'));
  assert.ok(profile.includes(`<string>${made.password}</string>`));
  assert.throws(
    () => svc.appleProfile('bob', 'email', 'home', undefined),
    (e: AppError) => e.status === 404,
  );
});

test('autoconfig answers only while email runs, and a source is limited to 60 a minute', () => {
  assert.throws(
    () => kit().svc.mailAutoconfig('home', '10.0.0.2'),
    (e: AppError) => e.status === 404,
  );
  const { svc } = kit({ email: true });
  const xml = svc.mailAutoconfig('home', '10.0.0.2');
  assert.match(xml, /<hostname>mail\.home\.cell<\/hostname>/);
  assert.match(xml, /<emailProvider id="home\.cell">/);
  for (let i = 1; i < 60; i++) svc.mailAutoconfig('home', '10.0.0.2');
  assert.throws(
    () => svc.mailAutoconfig('home', '10.0.0.2'),
    (e: AppError) => e.status === 429 && (e.retryAfter ?? 0) > 0,
  );
  assert.ok(svc.mailAutoconfig('home', '10.0.0.3'));
});
