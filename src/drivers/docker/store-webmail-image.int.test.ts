// The built-in webmail service (images/store/webmail: Roundcube 1.6, nginx and php8.2-fpm from
// Debian) beside the built-in email service (images/store/email), both built with buildImage and run
// on the real engine with their manifests' settings (user, read-only root, capabilities, memory,
// every volume as a temp host folder given to the container's user) on one network, with the
// environment the store injects (PIC_CELL_DOMAIN, PIC_SVC_EMAIL_MAIL). A certificate for
// mail.<domain> from a CA made like the cell's is in the email container's tls volume and the CA in
// webmail's, as the store writes them. Bob sends alice a message over submission 587 (nodemailer,
// STARTTLS verified); alice logs in to Roundcube over HTTP at the webmail container, as Caddy reaches
// it, and finds it in her inbox; a wrong password is refused and the account locked after three;
// Roundcube's config, logs, temp and SQL are not served; each cell gets its own des_key (0600);
// Roundcube refuses a mail server whose certificate does not chain to the CA it was given.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import nodemailer from 'nodemailer';
import { certPem, createIntermediate, createRoot, issueLeaf } from '../../core/vault/x509.ts';
import type { ServiceManifest } from '../../schema/service-manifest.ts';
import { buildImage } from './build-image.ts';
import {
  type Builtin,
  builtin,
  type Container,
  createStore,
  engine,
  request as kitRequest,
  type Reply,
  removeAll,
  runStore,
  type StoreContainer,
  skipReason,
} from './store-image-kit.ts';

const skip = await skipReason();
// Under `cell`: the cell's CA may only vouch for names there (its name constraints).
const DOMAIN = 'home.cell';
const HOST = `mail.${DOMAIN}`;
const PORT = 8080;
const ALICE = 'correct horse battery staple';
const BOB = 'another long password';
const SUBJECT = `Dinner on Friday ${randomBytes(3).toString('hex')}`;
const SUFFIX = randomBytes(3).toString('hex');
const NETWORK = `pic-storetest-net-webmail-${SUFFIX}`;

/**
 * One HTTP request, the path sent as written. A failed login answers late: Dovecot delays every
 * failed authentication and adds a penalty per client address (the webmail container's, here).
 */
const request = (
  ip: string,
  port: number,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> => kitRequest(ip, port, method, path, { ...opts, timeoutMs: 60_000 });

type Running = StoreContainer & { ip: string };

const created: string[] = [];
const folders: string[] = [];

/** A temp folder for one container's volumes (removed at the end). */
function folder(c: Container): string {
  const base = mkdtempSync(join(tmpdir(), `pic-storetest-${c.name}-`));
  folders.push(base);
  return base;
}

/** The cell's CA as the vault makes it (root, intermediate), and a certificate for mail.<domain>. */
async function makeCa() {
  const now = new Date();
  const names = { organisation: 'PIC test', root: 'PIC test root', intermediate: 'PIC test intermediate' };
  const root = await createRoot(names, now, 30);
  const intermediate = await createIntermediate(root, names, now, 30);
  const leaf = await issueLeaf(
    intermediate,
    { commonName: HOST, names: [HOST], days: 30, clientAuth: false },
    now,
  );
  return {
    ca: certPem(root.cert),
    fullchain: certPem(leaf.cert) + certPem(intermediate.cert),
    privkey: leaf.privateKeyPem,
  };
}

/** A Roundcube session driven over plain HTTP, as Caddy reaches the container. */
class Browser {
  cookies = new Map<string, string>();
  readonly ip: string;
  readonly host: string;
  constructor(ip: string, host = HOST) {
    this.ip = ip;
    this.host = host;
  }

  async send(method: string, path: string, form?: Record<string, string>, extra?: Record<string, string>) {
    const headers: Record<string, string> = { host: this.host, ...extra };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (form) {
      body = new URLSearchParams(form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const r = await request(this.ip, PORT, method, path, {
      headers,
      ...(body === undefined ? {} : { body }),
    });
    for (const c of [r.headers['set-cookie'] ?? []].flat()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const k = pair!.slice(0, eq);
      const v = pair!.slice(eq + 1);
      if (v === '-del-' || /Max-Age=0/i.test(c)) this.cookies.delete(k);
      else this.cookies.set(k, v);
    }
    return r;
  }

  /** GET the login page, then POST the form with its _token and the session cookie. */
  async login(user: string, password: string): Promise<Reply> {
    const page = await this.send('GET', '/');
    assert.equal(page.status, 200, page.body);
    const token = /name="_token" value="([A-Za-z0-9]+)"/.exec(page.body)?.[1];
    assert.ok(token, 'the login page has no _token');
    return this.send('POST', '/?_task=login', {
      _token: token,
      _task: 'login',
      _action: 'login',
      _timezone: 'UTC',
      _url: '',
      _user: user,
      _pass: password,
    });
  }

  /** The request token of the logged-in session (Roundcube's AJAX calls send it as a header). */
  async requestToken(): Promise<string> {
    const page = await this.send('GET', '/?_task=mail&_mbox=INBOX');
    assert.equal(page.status, 200);
    const token = /"request_token":"([A-Za-z0-9]+)"/.exec(page.body)?.[1];
    assert.ok(token, 'no request_token in the mail page');
    return token;
  }

  /** Writes a plain-text message in Roundcube's compose form and sends it (SMTP from the container). */
  async sendMail(to: string, subject: string, text: string): Promise<Reply> {
    let page = await this.send('GET', '/?_task=mail&_action=compose');
    // Roundcube redirects to the same action with a compose id.
    for (let i = 0; page.status === 302 && i < 3; i++)
      page = await this.send('GET', String(page.headers.location).replace(/^\.?\/?/, '/'));
    assert.equal(page.status, 200, page.body.slice(0, 300));
    const id = /"compose_id":"([A-Za-z0-9]+)"/.exec(page.body)?.[1];
    const token = /"request_token":"([A-Za-z0-9]+)"/.exec(page.body)?.[1];
    const from = /<select name="_from"[^>]*>\s*<option value="(\d+)"/.exec(page.body)?.[1];
    assert.ok(id && token && from, 'the compose page has no compose id, token or identity');
    return this.send('POST', '/?_task=mail&_framed=1', {
      _token: token,
      _task: 'mail',
      _action: 'send',
      _id: id,
      _from: from,
      _to: to,
      _subject: subject,
      _message: text,
      _is_html: '0',
      _priority: '0',
      _framed: '1',
    });
  }

  async inbox(token: string): Promise<string> {
    const r = await this.send('GET', '/?_task=mail&_action=list&_mbox=INBOX&_remote=1', undefined, {
      'x-roundcube-request': token,
      'x-requested-with': 'XMLHttpRequest',
    });
    assert.equal(r.status, 200, r.body);
    return r.body;
  }
}

describe('store image: webmail (Roundcube) with the email image', { skip }, () => {
  let wm: Builtin;
  let manifest: ServiceManifest;
  let rc: Container;
  let wmImage: string;
  let email: Running;
  let webmail: Running;
  let ca: Awaited<ReturnType<typeof makeCa>>;

  /** A webmail container as the store runs it: on fresh volumes, the CA pem (if any) written before start. */
  const webmailRun = (name: string, caPem: string | undefined, env?: Record<string, string>) => {
    created.push(name);
    return {
      service: wm,
      name,
      image: wmImage,
      network: NETWORK,
      base: folder(rc),
      env: { PIC_CELL_DOMAIN: DOMAIN, PIC_SVC_EMAIL_MAIL: email.name, ...env },
      ...(caPem === undefined ? {} : { tls: { ca: caPem } }),
      healthyWithinMs: 30_000,
    };
  };
  const startWebmail = (tag: string, caPem: string, env?: Record<string, string>): Promise<Running> =>
    runStore(webmailRun(`pic-storetest-webmail-${tag}-${SUFFIX}`, caPem, env));

  before(async () => {
    const em = await builtin('email');
    wm = await builtin('webmail');
    manifest = wm.manifest;
    rc = wm.c;
    const [wmBuilt, emBuilt] = await Promise.all([
      buildImage(engine.docker, { context: wm.context, tag: 'pic-storetest-webmail-roundcube:latest' }),
      buildImage(engine.docker, { context: em.context, tag: 'pic-storetest-email-mail:latest' }),
    ]);
    wmImage = wmBuilt.tag;
    ca = await makeCa();

    await engine.docker.createNetwork({ Name: NETWORK, Driver: 'bridge', CheckDuplicate: true });
    // The email service: its certificate for mail.<domain> in its tls volume, as the store writes it;
    // alice and bob through its own account hook (the password one line on stdin).
    const emName = `pic-storetest-email-${SUFFIX}`;
    created.push(emName);
    email = await runStore({
      service: em,
      name: emName,
      image: emBuilt.tag,
      network: NETWORK,
      base: folder(em.c),
      env: { PIC_CELL_DOMAIN: DOMAIN },
      tls: ca,
      accounts: { alice: ALICE, bob: BOB },
      healthyWithinMs: 30_000,
    });

    webmail = await startWebmail('a', ca.ca);

    // Bob writes to alice over submission (587, STARTTLS verified against the cell's CA).
    const transport = nodemailer.createTransport({
      host: email.ip,
      port: 587,
      secure: false,
      requireTLS: true,
      auth: { user: 'bob', pass: BOB },
      tls: { ca: ca.ca, servername: HOST },
    });
    await transport.sendMail({
      from: `bob@${DOMAIN}`,
      to: `alice@${DOMAIN}`,
      subject: SUBJECT,
      text: 'Shall we meet at eight?',
    });
    transport.close();
  });

  after(async () => {
    await removeAll(created, NETWORK, folders);
  });

  test('the manifest: requires email, route mail → 8080, tls without a certificate, data backed up', () => {
    assert.deepEqual(manifest.requires, ['email']);
    assert.deepEqual(manifest.http_routes, [{ subdomain: 'mail', container: 'roundcube', port: 8080 }]);
    assert.deepEqual(manifest.tls, { container: 'roundcube', volume: 'tls', certificate: false });
    assert.deepEqual(manifest.backup_volumes, ['data']);
    assert.equal(rc.read_only, true);
    assert.equal(rc.capabilities, undefined);
  });

  test('runs as www-data only, read-only root, no capability; the health check passes', async () => {
    const top = await engine.docker.getContainer(webmail.name).top({ ps_args: '-eo pid,uid,args' });
    const procs = (top.Processes as string[][]).map((p) => [p[1]!, p[2]!]);
    assert.ok(
      procs.some(([, cmd]) => /php-fpm: master/.test(cmd!)),
      JSON.stringify(procs),
    );
    assert.ok(
      procs.some(([, cmd]) => /nginx: master/.test(cmd!)),
      JSON.stringify(procs),
    );
    for (const [uid, cmd] of procs) assert.equal(uid, '33', `${cmd} runs as ${uid}`);
    const w = await webmail.exec(['touch', '/etc/roundcube/pic-test']);
    assert.notEqual(w.exitCode, 0, 'the root file system is writable');
    const caps = await webmail.exec(['grep', '^CapEff', '/proc/1/status']);
    assert.match(caps.stdout, /CapEff:\s+0+$/m);
    const h = await webmail.exec(rc.healthcheck!.test);
    assert.equal(h.exitCode, 0, h.stdout);
    // php8.2-fpm installed with roundcube-core kept Apache (and systemd) out.
    for (const file of ['/usr/sbin/apache2', '/lib/systemd/systemd'])
      assert.notEqual((await webmail.exec(['test', '-e', file])).exitCode, 0, `${file} is in the image`);
  });

  test('the des_key is made at the first start: 24 characters, 0600, one per cell', async () => {
    const stat = await webmail.exec([
      'stat',
      '-c',
      '%a %u %s',
      '/var/lib/pic-webmail/des_key',
      '/var/lib/pic-webmail/roundcube.sqlite',
    ]);
    const [key, db] = stat.stdout.trim().split('\n');
    assert.match(key!, /^600 33 25$/);
    assert.match(db!, /^600 33 \d+$/);
    const a = (await webmail.exec(['cat', '/var/lib/pic-webmail/des_key'])).stdout.trim();
    assert.match(a, /^[A-Za-z0-9+/]{24}$/);
    // Nothing in the image carries a key: only defaults.inc.php's placeholder, overridden.
    const baked = await webmail.exec([
      'grep',
      '-rlE',
      "des_key'\\] *= *'",
      '/etc/roundcube',
      '--exclude=defaults.inc.php',
    ]);
    assert.equal(baked.stdout, '');
    // A second cell (fresh volumes) gets a key of its own.
    const other = await startWebmail('b', ca.ca);
    const b = (await other.exec(['cat', '/var/lib/pic-webmail/des_key'])).stdout.trim();
    assert.match(b, /^[A-Za-z0-9+/]{24}$/);
    assert.notEqual(a, b);
  });

  test('alice logs in with her mailbox password and finds bob’s message in her inbox', async () => {
    const alice = new Browser(webmail.ip);
    const login = await alice.login('alice', ALICE);
    assert.equal(login.status, 302, login.body.slice(0, 500));
    assert.match(String(login.headers.location), /_task=mail/);
    const token = await alice.requestToken();
    let list = '';
    for (let i = 0; i < 100; i++) {
      list = await alice.inbox(token);
      if (list.includes(SUBJECT)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(list.includes(SUBJECT), list);
    const uid = /add_message_row\((\d+),/.exec(list)?.[1];
    assert.ok(uid);
    const show = await alice.send('GET', `/?_task=mail&_action=show&_uid=${uid}&_mbox=INBOX`);
    assert.equal(show.status, 200);
    assert.match(show.body, /Shall we meet at eight\?/);
    assert.match(show.body, new RegExp(`bob@${DOMAIN.replace('.', '\\.')}`));
    // The session cookies are Secure, HttpOnly and SameSite=Strict.
    const page = await new Browser(webmail.ip).send('GET', '/');
    for (const c of [page.headers['set-cookie'] ?? []].flat()) {
      assert.match(c, /; secure/i, c);
      assert.match(c, /; HttpOnly/i, c);
      assert.match(c, /; SameSite=Strict/i, c);
    }
    // alice@<domain> is the same login.
    const full = await new Browser(webmail.ip).login(`alice@${DOMAIN}`, ALICE);
    assert.equal(full.status, 302);
  });

  test('alice writes back through Roundcube (submission with her own login, verified) and bob reads it', async () => {
    const alice = new Browser(webmail.ip);
    assert.equal((await alice.login('alice', ALICE)).status, 302);
    const subject = `Re: ${SUBJECT}`;
    const sent = await alice.sendMail(`bob@${DOMAIN}`, subject, 'Eight is perfect.');
    assert.equal(sent.status, 200);
    assert.match(sent.body, /sent_successfully/, sent.body.slice(-1500));
    const bob = new Browser(webmail.ip);
    assert.equal((await bob.login('bob', BOB)).status, 302);
    const token = await bob.requestToken();
    let list = '';
    for (let i = 0; i < 100 && !list.includes(subject); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 200));
      list = await bob.inbox(token);
    }
    assert.ok(list.includes(subject), list);
    assert.match(list, new RegExp(`alice@${DOMAIN.replace('.', '\\.')}`));
  });

  test('the configuration as Roundcube reads it: both connections verified, the cell’s domain', async () => {
    const php = [
      "define('RCUBE_INSTALL_PATH', '/var/lib/roundcube/');",
      "include '/etc/roundcube/config.inc.php';",
      "$k = ['imap_host', 'imap_conn_options', 'smtp_host', 'smtp_conn_options', 'smtp_user', 'smtp_pass',",
      "  'username_domain', 'username_domain_forced', 'product_name', 'use_https', 'session_samesite',",
      "  'ip_check', 'login_rate_limit', 'db_dsnw'];",
      'echo json_encode(array_intersect_key($config, array_flip($k)));',
    ].join(' ');
    const r = await webmail.exec(['php', '-r', php]);
    assert.equal(r.exitCode, 0, r.stderr);
    const tls = {
      ssl: {
        verify_peer: true,
        verify_peer_name: true,
        peer_name: HOST,
        allow_self_signed: false,
        cafile: '/etc/pic-webmail/tls/ca.pem',
        capath: '/nonexistent',
        SNI_enabled: true,
      },
    };
    assert.deepEqual(JSON.parse(r.stdout), {
      db_dsnw: 'sqlite:////var/lib/pic-webmail/roundcube.sqlite?mode=0600',
      imap_host: `ssl://${email.name}:993`,
      imap_conn_options: tls,
      smtp_host: `tls://${email.name}:587`,
      smtp_conn_options: tls,
      smtp_user: '%u',
      smtp_pass: '%p',
      username_domain: DOMAIN,
      username_domain_forced: true,
      product_name: 'PIC Webmail',
      use_https: true,
      session_samesite: 'Strict',
      ip_check: true,
      login_rate_limit: 3,
    });
  });

  test('a session is bound to the client address Caddy forwards (ip_check)', async () => {
    const alice = new Browser(webmail.ip);
    const peer = { 'x-forwarded-for': '10.0.0.5' };
    const page = await alice.send('GET', '/', undefined, peer);
    const token = /name="_token" value="([A-Za-z0-9]+)"/.exec(page.body)?.[1];
    assert.ok(token);
    const login = await alice.send(
      'POST',
      '/?_task=login',
      {
        _token: token,
        _task: 'login',
        _action: 'login',
        _timezone: 'UTC',
        _url: '',
        _user: 'alice',
        _pass: ALICE,
      },
      peer,
    );
    assert.equal(login.status, 302);
    const same = await alice.send('GET', '/?_task=mail&_mbox=INBOX', undefined, peer);
    assert.match(same.body, /"task":"mail"/, 'the session does not work from its own address');
    // The same cookies from another peer's address: back to the login page.
    const stolen = await alice.send('GET', '/?_task=mail&_mbox=INBOX', undefined, {
      'x-forwarded-for': '10.0.0.6',
    });
    assert.doesNotMatch(stolen.body, /"task":"mail"/);
    assert.match(stolen.body, /rcmloginuser|_task=login/);
  });

  test('a wrong password, an unknown user and another domain are refused', async () => {
    for (const [user, password] of [
      ['alice', 'wrong password'],
      ['mallory', ALICE],
      ['alice@example.org', ALICE],
      ['', ''],
    ] as const) {
      const r = await new Browser(webmail.ip).login(user, password);
      assert.notEqual(r.status, 302, `${user} logged in`);
      assert.doesNotMatch(String(r.headers.location ?? ''), /_task=mail/);
      assert.equal(
        r.headers['set-cookie']?.some((c) => c.startsWith('roundcube_sessauth=') && !c.includes('-del-')) ??
          false,
        false,
      );
    }
  });

  test('three failed logins in a minute lock the account, even for the right password', async () => {
    const first = await new Browser(webmail.ip).login('bob', BOB);
    assert.equal(first.status, 302, 'bob cannot log in');
    for (let i = 0; i < 3; i++) await new Browser(webmail.ip).login('bob', `wrong ${i}`);
    const locked = await new Browser(webmail.ip).login('bob', BOB);
    assert.notEqual(locked.status, 302);
    assert.match(locked.body, /Too many failed login attempts/);
  });

  test('only public_html is served: config, logs, temp, SQL, dotfiles, composer.json and PHP sources are not', async () => {
    const paths = [
      '/config/',
      '/config/config.inc.php',
      '/config/defaults.inc.php',
      '/logs/',
      '/logs/errors.log',
      '/temp/',
      '/SQL/',
      '/SQL/sqlite.initial.sql',
      '/.htaccess',
      '/composer.json',
      '/index.php/../config/config.inc.php',
      '/skins/../config/config.inc.php',
      '/skins/elastic/../../../../etc/roundcube/config.inc.php',
      '/%2e%2e/config/config.inc.php',
      '/program/include/iniset.php',
      '/program/lib/Roundcube/rcube.php',
      '/plugins/filesystem_attachments/filesystem_attachments.php',
      '/plugins/jqueryui/config.inc.php.dist',
      '/installer/',
      '/bin/updatedb.sh',
      '/.git/config',
      '/.pic-ping',
    ];
    for (const path of paths) {
      const r = await request(webmail.ip, PORT, 'GET', path, { headers: { host: HOST } });
      assert.ok([400, 403, 404].includes(r.status), `${path}: ${r.status}`);
      assert.doesNotMatch(r.body, /<\?php|des_key|CREATE TABLE|pong/, `${path} leaked a file`);
    }
    // What Roundcube needs is served.
    const page = await request(webmail.ip, PORT, 'GET', '/', { headers: { host: HOST } });
    const assets = [...page.body.matchAll(/(?:href|src)="((?:skins|program|plugins)\/[^"?]+)/g)].map(
      (m) => m[1],
    );
    assert.ok(assets.length > 5, page.body);
    for (const a of assets) {
      const r = await request(webmail.ip, PORT, 'GET', `/${a}`, { headers: { host: HOST } });
      assert.equal(r.status, 200, a);
    }
  });

  test('security headers suited to Roundcube; no version disclosed', async () => {
    const r = await request(webmail.ip, PORT, 'GET', '/', { headers: { host: HOST } });
    assert.equal(r.status, 200);
    assert.match(r.body, /<title>PIC Webmail/);
    const csp = String(r.headers['content-security-policy']);
    for (const d of ["frame-ancestors 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'"])
      assert.ok(csp.includes(d), csp);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['x-frame-options'], 'sameorigin');
    assert.equal(r.headers['referrer-policy'], 'same-origin');
    assert.equal(r.headers.server, 'nginx');
    assert.equal(r.headers['x-powered-by'], undefined);
  });

  test('the mail server’s certificate is verified: another CA or another name is refused', async () => {
    const other = await makeCa();
    const cases = [
      { tag: 'c', ca: other.ca, domain: DOMAIN, why: /certificate verify failed/ },
      // The right CA, but the certificate names mail.home.cell, not mail.other.cell.
      {
        tag: 'd',
        ca: ca.ca,
        domain: 'other.cell',
        why: /subjectAltName did not match expected name .mail\.other\.cell/,
      },
    ];
    for (const c of cases) {
      const wrong = await startWebmail(c.tag, c.ca, { PIC_CELL_DOMAIN: c.domain });
      const r = await new Browser(wrong.ip, `mail.${c.domain}`).login('alice', ALICE);
      assert.notEqual(r.status, 302, 'logged in over an unverified connection');
      const logs = await engine.logs(wrong.name, 50);
      assert.match(logs, c.why, logs);
    }
  });

  test('refuses to start without a valid domain and mail server name', async () => {
    const bad: Record<string, string>[] = [
      { PIC_CELL_DOMAIN: 'Home.Cell' },
      { PIC_CELL_DOMAIN: 'cell' },
      { PIC_CELL_DOMAIN: 'home.cell/x' },
      { PIC_CELL_DOMAIN: 'home.cell\nevil' },
      { PIC_SVC_EMAIL_MAIL: 'mail:993' },
      { PIC_SVC_EMAIL_MAIL: '' },
      { PIC_SVC_EMAIL_MAIL: "x'];phpinfo();//" },
    ];
    for (const env of bad) {
      const { name } = await createStore(
        webmailRun(`pic-storetest-webmail-bad-${randomBytes(3).toString('hex')}`, ca.ca, env),
      );
      const { StatusCode } = (await engine.docker.getContainer(name).wait()) as { StatusCode: number };
      assert.notEqual(StatusCode, 0, JSON.stringify(env));
      assert.match(await engine.logs(name, 5), /pic-webmail: PIC_(CELL_DOMAIN|SVC_EMAIL_MAIL) must be/);
    }
  });

  test('refuses to start without ca.pem, saying what the store puts there', async () => {
    const { name } = await createStore(
      webmailRun(`pic-storetest-webmail-noca-${randomBytes(3).toString('hex')}`, undefined),
    );
    const { StatusCode } = (await engine.docker.getContainer(name).wait()) as { StatusCode: number };
    assert.notEqual(StatusCode, 0);
    const logs = await engine.logs(name, 5);
    assert.match(
      logs,
      /pic-webmail: \/etc\/pic-webmail\/tls\/ca\.pem is missing: the store writes the root the cell's certificate chains to \(the cell's CA in local mode, the ACME chain's root in a public mode\)/,
      logs,
    );
  });

  test('the supervisor: docker stop ends both daemons at once; if one dies the container exits', async () => {
    const a = await startWebmail('e', ca.ca);
    const t0 = Date.now();
    await engine.docker.getContainer(a.name).stop({ t: 10 });
    assert.ok(Date.now() - t0 < 5000, `docker stop took ${Date.now() - t0} ms`);
    assert.equal((await engine.docker.getContainer(a.name).inspect()).State.ExitCode, 0);
    const b = await startWebmail('f', ca.ca);
    const kill = await b.exec(['pkill', '-TERM', '-f', '^php-fpm: master']);
    assert.equal(kill.exitCode, 0, kill.stderr);
    const { StatusCode } = (await engine.docker.getContainer(b.name).wait()) as { StatusCode: number };
    assert.notEqual(StatusCode, 0);
    assert.match(await engine.logs(b.name, 10), /pic-webmail: php-fpm exited/);
  });

  test('idle memory is within the goal (60 MB)', async (t) => {
    // php-fpm's workers leave after 10 s without a request (pm = ondemand).
    await new Promise((r) => setTimeout(r, 11_000));
    const s = (await engine.docker.getContainer(webmail.name).stats({ stream: false })) as {
      memory_stats: { usage: number; stats?: Record<string, number> };
    };
    const m = s.memory_stats;
    const mib = (m.usage - (m.stats?.inactive_file ?? m.stats?.total_inactive_file ?? 0)) / 1024 / 1024;
    t.diagnostic(`webmail idle memory: ${mib.toFixed(1)} MiB`);
    assert.ok(mib <= 60, `${mib.toFixed(1)} MiB`);
  });
});
