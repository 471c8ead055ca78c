// Email and webmail end to end (issue 13): from a fresh cell the owner installs Webmail from the store
// (which brings Email first), grants both to two peers and gives each a mailbox. From the peers'
// devices, on tunnels brought up from the exported configs unchanged, trusting the cell's root as a
// phone does once its user installed it: alice sends to bob over submission (587, STARTTLS verified),
// bob reads it over IMAPS (993) and in Roundcube in Chromium, and the DKIM signature verifies against
// the record the cell's DNS serves. From outside the VPN nobody can relay, a wrong password is refused
// and slowed, a backup restored in place brings bob's mail back, and uninstalling closes the host's
// mail ports. Nothing here sends a packet off this machine: the outside domain the stranger tries
// does not exist and the cell has no smarthost, so nothing is ever tried beyond the cell.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import nodemailer from 'nodemailer';
import { type Browser, chromium } from 'playwright-core';
import { CHROMIUM } from '../ui/serve.ts';
import {
  APP_ROOT,
  addPeer as addCellPeer,
  CELL_VPN_IP,
  DeviceCell,
  DOMAIN,
  deviceName,
  exec,
  runDeviceApp,
  waitJob as runJob,
} from './devices.ts';
import { ADMIN_PASSWORD, ApiClient, docker, ROOT, type TestCell, until } from './harness.ts';

const MAIL_HOST = `mail.${DOMAIN}`;
const SUBJECT = `PIC mail e2e ${Date.now()}`;

const testbed = new DeviceCell('mail');
let cell: TestCell;
let admin: ApiClient;
let work = '';
let hostAddress = '';
const passwords: Record<string, string> = {};
let mailIp = '';

const inDevice = (who: string, argv: string[]) => exec(deviceName(cell, who), argv);

function dig(who: string, name: string, type = 'A'): { status?: string; answers: string[] } {
  const out = inDevice(who, ['dig', '+time=2', '+tries=2', `@${CELL_VPN_IP}`, name, type]).stdout;
  const re = new RegExp(`^\\S+\\s+\\d+\\s+IN\\s+${type}\\s+(.+)$`, 'gm');
  return { status: /status: (\w+)/.exec(out)?.[1], answers: [...out.matchAll(re)].map((m) => m[1]!) };
}

/**
 * The peer's mail app (test/e2e/peer/mail-client.ts) in the device's network namespace (runDeviceApp),
 * given the root the device downloaded through its tunnel as its CA.
 */
function mailApp(who: string, job: Record<string, unknown>): Record<string, unknown> {
  return runDeviceApp(cell, who, {
    script: 'mail-client.ts',
    jobVariable: 'MAIL_JOB',
    job: { ca: APP_ROOT, host: MAIL_HOST, ...job },
    dir: work,
  });
}

/** One SMTP conversation from this host (outside the VPN) to the host's published port 25. */
async function strangerSends(to: string): Promise<{ ok: boolean; code?: number; response?: string }> {
  const t = nodemailer.createTransport({
    host: hostAddress,
    port: 25,
    secure: false,
    ignoreTLS: true,
    connectionTimeout: 10_000,
    name: 'stranger.example.org',
  });
  try {
    await t.sendMail({ from: 'stranger@example.org', to, subject: 'relay?', text: 'hello' });
    return { ok: true };
  } catch (e) {
    const err = e as { responseCode?: number; response?: string };
    return { ok: false, code: err.responseCode, response: err.response };
  }
}

/** Whether a TCP connection to the host's port opens (and the server speaks first). */
function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: hostAddress, port, timeout: 3000 });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

before(async () => {
  await testbed.start();
  ({ cell, admin, work, hostAddress } = testbed);
});

after(() => testbed.stop());

test('installing webmail installs email first; email cannot be uninstalled while webmail needs it', async () => {
  await runJob(admin, 'webmail', 'install');
  const email = (await admin.call('GET', '/api/services/catalog/email')).json as { state: string };
  assert.equal(email.state, 'running', JSON.stringify(email));
  const refused = await admin.call('POST', '/api/services/catalog/email/uninstall');
  assert.equal(refused.status, 409, JSON.stringify(refused.json));
  assert.match(JSON.stringify(refused.json), /webmail/);
  for (const port of [25, 587, 993]) assert.ok(await portOpen(port), `host port ${port} is open`);
});

test('two peers are granted mail and get a mailbox each; their devices join over WireGuard', async () => {
  for (const who of ['alice', 'bob']) {
    await addCellPeer(admin, who, ['dns', 'web', 'email', 'webmail']);
    const r = await admin.call('POST', '/api/services/email/accounts', { username: who });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    passwords[who] = (r.json as { password: string }).password;
    assert.ok(passwords[who]!.length >= 12);
    await testbed.startDevice(who);
    const root = spawnSync('docker', [
      'cp',
      `${deviceName(cell, who)}:/tmp/root.pem`,
      join(work, `${who}-root.pem`),
    ]);
    assert.equal(root.status, 0, String(root.stderr));
  }
});

test("the cell's DNS serves mail's name and the records a mail domain needs: MX, SPF, DKIM, DMARC", () => {
  const a = dig('alice', MAIL_HOST);
  assert.equal(a.status, 'NOERROR', JSON.stringify(a));
  assert.equal(a.answers.length, 1);
  mailIp = a.answers[0]!;
  const mx = dig('alice', DOMAIN, 'MX');
  assert.match(mx.answers.join('\n'), new RegExp(`^\\d+ ${MAIL_HOST.replaceAll('.', '\\.')}\\.$`, 'm'));
  assert.match(dig('alice', DOMAIN, 'TXT').answers.join('\n'), /v=spf1/);
  assert.match(dig('alice', `_dmarc.${DOMAIN}`, 'TXT').answers.join('\n'), /v=DMARC1/);
  assert.match(dig('alice', `pic._domainkey.${DOMAIN}`, 'TXT').answers.join('\n'), /v=DKIM1/);
  // The records the owner must publish in the custom mode are listed by the API too.
  return admin.call('GET', '/api/services/email/dns-records').then((r) => {
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const types = (r.json as { records: { type: string }[] }).records.map((x) => x.type).sort();
    assert.deepEqual([...new Set(types)], ['MX', 'TXT']);
  });
});

test('alice sends to bob over submission (587, STARTTLS verified); bob reads it over IMAPS (993); DKIM verifies', async () => {
  const sent = mailApp('alice', {
    op: 'send',
    port: 587,
    user: `alice@${DOMAIN}`,
    pass: passwords.alice,
    from: `alice@${DOMAIN}`,
    to: `bob@${DOMAIN}`,
    subject: SUBJECT,
    text: 'Sent from the tunnel.',
  });
  assert.equal(sent.ok, true, JSON.stringify(sent));
  const got = await until('bob to have the message', async () => {
    const r = mailApp('bob', { op: 'read', port: 993, user: 'bob', pass: passwords.bob, subject: SUBJECT });
    return r.found ? r : undefined;
  });
  assert.match(String(got.source), /Sent from the tunnel\./);
  const dkim = got.dkim as { result: string; domain: string }[];
  assert.ok(
    dkim.some((d) => d.result === 'pass' && d.domain === DOMAIN),
    `DKIM: ${JSON.stringify(dkim)}`,
  );
});

test('nobody outside the VPN can relay through the cell; inbound mail for a mailbox is accepted', async () => {
  const relay = await strangerSends('victim@example.net');
  assert.equal(relay.ok, false, 'an open relay');
  assert.ok(relay.code && relay.code >= 500 && relay.code < 600, JSON.stringify(relay));
  const inbound = await strangerSends(`bob@${DOMAIN}`);
  assert.equal(inbound.ok, true, JSON.stringify(inbound));
  // Submission without authentication is refused too.
  const t = nodemailer.createTransport({
    host: hostAddress,
    port: 587,
    secure: false,
    ignoreTLS: true,
    connectionTimeout: 10_000,
  });
  await assert.rejects(
    t.sendMail({ from: `alice@${DOMAIN}`, to: 'victim@example.net', subject: 'x', text: 'x' }),
  );
});

test('a wrong password is refused and slowed; the right one still works', () => {
  // The right one first: a failure slows the next logins from the same address too (Dovecot's auth
  // penalty), and every peer reaches the service from Docker's gateway address (ADR 0023).
  const right = mailApp('alice', { op: 'login', port: 993, user: 'alice', pass: passwords.alice });
  assert.equal(right.ok, true, JSON.stringify(right));
  const wrong = mailApp('alice', { op: 'login', port: 993, user: 'alice', pass: 'not-the-password' });
  assert.equal(wrong.ok, false, JSON.stringify(wrong));
  const [took, base] = [Number(wrong.ms), Number(right.ms)];
  assert.ok(took > base + 1000, `the failure took ${took} ms, a success ${base} ms: not slowed`);
});

test("bob reads alice's message in Roundcube, in Chromium on his device, trusting the cell's root", async () => {
  const device = deviceName(cell, 'bob');
  const pid = docker(['inspect', '-f', '{{.State.Pid}}', device]).trim();
  const resolv = join(work, 'bob-resolv.conf');
  writeFileSync(resolv, inDevice('bob', ['cat', '/etc/resolv.conf']).stdout);
  // The browser's own trust store with the cell's root, as its user would import it.
  const home = join(work, 'bob-home');
  const nss = join(home, '.pki', 'nssdb');
  mkdirSync(nss, { recursive: true });
  for (const args of [
    ['-N', '-d', `sql:${nss}`, '--empty-password'],
    ['-A', '-d', `sql:${nss}`, '-n', 'PIC cell root', '-t', 'C,,', '-i', join(work, 'bob-root.pem')],
  ]) {
    const r = spawnSync('certutil', args, { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
  // Chromium in the device's network namespace, seeing the device's resolv.conf: the browser of a
  // laptop on the tunnel. Playwright's pipe (fds 3 and 4) passes through nsenter and unshare.
  const wrapper = join(work, 'chromium-on-bob');
  writeFileSync(
    wrapper,
    [
      '#!/bin/bash',
      `exec nsenter -t ${pid} -n -- unshare -m --propagation private -- /bin/bash -c '`,
      '  mount --bind "$1" /etc/resolv.conf || exit 1',
      '  export HOME="$2"; shift 2',
      `  exec ${CHROMIUM} "$@"' chromium ${resolv} ${home} "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(wrapper, 0o755);
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: wrapper,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const page = await browser.newPage();
    await page.goto(`https://${MAIL_HOST}/`);
    await page.fill('#rcmloginuser', 'bob');
    await page.fill('#rcmloginpwd', passwords.bob!);
    await page.click('#rcmloginsubmit');
    await page.getByText(SUBJECT).first().waitFor({ timeout: 30_000 });
    mkdirSync(join(ROOT, 'test-results', 'e2e'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-results', 'e2e', 'mail-roundcube.png') });
  } finally {
    await browser?.close();
  }
});

test("a backup restored in place brings bob's mailbox back", async () => {
  const PASSPHRASE = 'the mail e2e backup passphrase';
  const started = await admin.call('POST', '/api/config/backup', { passphrase: PASSPHRASE });
  assert.equal(started.status, 202, JSON.stringify(started.json));
  const id = (started.json as { backup_id: string }).backup_id;
  await until(
    'the backup to finish',
    async () => {
      const job = (
        (await admin.call('GET', `/api/config/backups/${id}`)).json as {
          job: { phase: string; error: string };
        }
      ).job;
      if (job.phase === 'failed') throw new Error(job.error);
      return job.phase === 'done' ? true : undefined;
    },
    5 * 60_000,
  );
  // bob's mail is lost (his Maildir emptied on disk), then the backup is restored.
  const maildir = join(cell.dir, 'data', 'services', 'email');
  const lost = spawnSync('find', [maildir, '-path', '*bob*', '-type', 'f', '-path', '*/cur/*', '-delete']);
  assert.equal(lost.status, 0);
  const newMail = spawnSync('find', [maildir, '-path', '*bob*', '-type', 'f', '-path', '*/new/*', '-delete']);
  assert.equal(newMail.status, 0);
  const gone = mailApp('bob', { op: 'read', port: 993, user: 'bob', pass: passwords.bob, subject: SUBJECT });
  assert.equal(gone.found, false, 'the message was removed before the restore');
  const restore = await admin.call('POST', `/api/config/restore/${id}`, { passphrase: PASSPHRASE });
  assert.equal(restore.status, 202, JSON.stringify(restore.json));
  const owner = new ApiClient(cell.url);
  await until(
    'the restored admin to log in',
    async () => {
      const r = await owner.call('POST', '/api/auth/login', { username: 'admin', password: ADMIN_PASSWORD });
      return r.status === 200 ? true : undefined;
    },
    5 * 60_000,
  );
  admin = owner;
  await until(
    'the restore to finish',
    async () => {
      const r = await admin.call('GET', `/api/config/backups/${id}`);
      // The admin's password is the same before and after: the login above may have come before the
      // swap, which ends every session. Log in again then.
      if (r.status === 401) {
        await admin.call('POST', '/api/auth/login', { username: 'admin', password: ADMIN_PASSWORD });
        return undefined;
      }
      const job = (r.json as { job: { phase: string; error: string } }).job;
      if (job.phase === 'failed') throw new Error(job.error);
      return job.phase === 'done' ? true : undefined;
    },
    5 * 60_000,
  );
  // The restored services restart after their volumes (jobs of their own): wait until they are idle.
  await until('the mail services to run again', async () => {
    for (const sid of ['email', 'webmail']) {
      const item = (await admin.call('GET', `/api/services/catalog/${sid}`)).json as {
        state: string;
        job?: { phase: string };
      };
      if (item.state !== 'running' || (item.job && item.job.phase !== 'done')) return undefined;
    }
    return true;
  });
  const back = await until(
    "bob's message to be back",
    async () => {
      const r = mailApp('bob', { op: 'read', port: 993, user: 'bob', pass: passwords.bob, subject: SUBJECT });
      return r.found ? r : undefined;
    },
    5 * 60_000,
  );
  assert.match(String(back.source), /Sent from the tunnel\./);
});

test("uninstalling webmail then email closes the host's mail ports and takes mail's name away", async () => {
  await runJob(admin, 'webmail', 'uninstall');
  await runJob(admin, 'email', 'uninstall');
  for (const port of [25, 587, 993]) assert.equal(await portOpen(port), false, `host port ${port} closed`);
  await until('mail to leave the zone', async () =>
    dig('alice', MAIL_HOST).status === 'NXDOMAIN' ? true : undefined,
  );
  assert.ok(mailIp, 'mail had an address');
});
