// The built-in email service (images/store/email: Postfix, Dovecot and OpenDKIM from Debian) built
// with buildImage and run on the real engine with its manifest's settings (read-only root, the
// store's short capability list and nothing else, 192 MB, its five volumes as temp host folders) on a
// bridge network of its own; the test reaches it on its bridge address, so every client appears from
// the bridge's gateway address, as published ports make them appear. A test CA issues mail.<domain>'s
// certificate, written into the tls volume as the store does, then the manifest's reload hook.
// Covered: accounts; alice → bob over submission (nodemailer, STARTTLS verified) read over IMAPS
// (imapflow, verified) with a DKIM signature mailauth verifies against the dns-records hook's key; no
// relay for strangers on 25 who may still deliver to the cell's recipients; no submission without
// login, or as someone else; wrong passwords slowed and limited; outbound mail queued with a reason
// without a smarthost and delivered, signed, to an AUTH+TLS sink once one is set; the queue and the
// mailboxes across a restart; aliases; the quota; hostile settings refused with nothing changed.
// Nothing leaves the machine: the "outside" is a sink this test runs on the network's gateway.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { ImapFlow } from 'imapflow';
import { authenticate } from 'mailauth';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import {
  certPem,
  createIntermediate,
  createRoot,
  issueLeaf,
  type KeyAndCert,
} from '../../core/vault/x509.ts';
import { SEPARATOR } from '../../render/common/golden-kit.ts';
import type { ServiceManifest } from '../../schema/service-manifest.ts';
import { buildImage } from './build-image.ts';
import {
  accountHook,
  type Builtin,
  builtin,
  engine,
  removeAll,
  runStore,
  skipReason,
  untilHealthy,
  writeTls,
} from './store-image-kit.ts';

const skip = await skipReason();
const DOMAIN = 'home.cell';
const MAIL_NAME = `mail.${DOMAIN}`;
const ALICE = { user: 'alice', pass: 'correct horse battery' };
const BOB = { user: 'bob', pass: 'another long password' };
const CAROL = { user: 'carol', pass: 'carol password 3' };
const SINK = { user: 'relay-user', pass: 'relay pass: s3cret!' };

interface Reply {
  code: number;
  text: string;
}

/** A minimal SMTP client: one command, one reply (multi-line replies joined); STARTTLS verified. */
class Smtp {
  private sock: net.Socket | tls.TLSSocket;
  private buf = '';
  private waiters: Array<(r: Reply | null) => void> = [];
  private replies: Array<Reply | null> = [];
  closed = false;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    this.attach(sock);
  }

  static async open(host: string, port: number): Promise<{ smtp: Smtp; greeting: Reply }> {
    const sock = net.connect({ host, port });
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    const smtp = new Smtp(sock);
    const greeting = await smtp.reply();
    assert.ok(greeting, 'no greeting');
    return { smtp, greeting };
  }

  private attach(sock: net.Socket | tls.TLSSocket) {
    const onData = (b: Buffer) => {
      this.buf += b.toString('latin1');
      let lines: string[] = [];
      for (;;) {
        const i = this.buf.indexOf('\r\n');
        if (i < 0) break;
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        lines.push(line);
        if (/^\d{3} /.test(line) || /^\d{3}$/.test(line)) {
          this.push({ code: Number(line.slice(0, 3)), text: lines.map((l) => l.slice(4)).join('\n') });
          lines = [];
        }
      }
    };
    sock.on('data', onData);
    sock.on('close', () => {
      this.closed = true;
      this.push(null);
    });
    sock.on('error', () => undefined);
    return () => sock.off('data', onData);
  }

  private push(r: Reply | null) {
    const w = this.waiters.shift();
    if (w) w(r);
    else this.replies.push(r);
  }

  reply(): Promise<Reply | null> {
    if (this.replies.length) return Promise.resolve(this.replies.shift() ?? null);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async cmd(line: string): Promise<Reply | null> {
    if (this.closed) return null;
    this.sock.write(`${line}\r\n`);
    return this.reply();
  }

  async starttls(ca: string): Promise<void> {
    const r = await this.cmd('STARTTLS');
    assert.equal(r?.code, 220, `STARTTLS: ${JSON.stringify(r)}`);
    this.sock.removeAllListeners('data');
    const secure = tls.connect({ socket: this.sock as net.Socket, ca, servername: MAIL_NAME });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.sock = secure;
    this.attach(secure);
  }

  async authPlain(user: string, pass: string): Promise<Reply | null> {
    return this.cmd(`AUTH PLAIN ${Buffer.from(`\0${user}\0${pass}`).toString('base64')}`);
  }

  close() {
    this.sock.destroy();
  }
}

/** A fresh connection to `port`, past EHLO (and STARTTLS when `ca` is given). */
async function smtpSession(host: string, port: number, ca?: string): Promise<Smtp> {
  const { smtp, greeting } = await Smtp.open(host, port);
  assert.equal(greeting.code, 220, greeting.text);
  assert.equal((await smtp.cmd('EHLO client.test'))?.code, 250);
  if (ca) {
    await smtp.starttls(ca);
    assert.equal((await smtp.cmd('EHLO client.test'))?.code, 250);
  }
  return smtp;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    assert.ok(Date.now() < until, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('store image: email (Postfix, Dovecot, OpenDKIM)', { skip }, () => {
  const suffix = randomBytes(3).toString('hex');
  const container = `pic-storetest-email-${suffix}`;
  const network = `pic-storetest-net-email-${suffix}`;
  const base = mkdtempSync(join(tmpdir(), 'pic-storetest-email-'));
  let vols: Record<string, string> = {};
  let ip = '';
  let gateway = '';
  let caPem = '';
  let ca: KeyAndCert;
  let sink: SMTPServer | undefined;
  const sunk: Array<{ from: string; to: string[]; raw: Buffer; secure: boolean; user: string | undefined }> =
    [];
  let service: Builtin;
  let manifest: ServiceManifest;

  const exec = (argv: string[], stdin?: string, user?: string) =>
    engine.exec(container, argv, { ...(stdin === undefined ? {} : { stdin }), ...(user ? { user } : {}) });
  const hook = async (argv: string[] | undefined, stdin?: string) => {
    assert.ok(argv);
    return exec(argv, stdin);
  };
  const account = (name: 'add' | 'remove' | 'list', username?: string, password?: string) =>
    accountHook(exec, manifest, name, username, password);
  const settings = (values: Record<string, unknown>) =>
    hook(
      manifest.settings?.apply,
      JSON.stringify({
        smarthost_host: null,
        smarthost_port: null,
        smarthost_username: null,
        smarthost_password: null,
        smarthost_verify: null,
        quota_mb: null,
        aliases: [],
        ...values,
      }),
    );
  const status = async () => {
    const r = await hook(manifest.status?.command);
    assert.equal(r.exitCode, 0, r.stderr);
    return JSON.parse(r.stdout) as {
      queue: Array<{
        id: string;
        arrival: string;
        size: number;
        sender: string;
        recipients: string[];
        reason: string | null;
      }>;
      smarthost: string | null;
    };
  };
  const dnsRecords = async () => {
    const r = await hook(manifest.dns_records?.list);
    assert.equal(r.exitCode, 0, r.stderr);
    return JSON.parse(r.stdout) as Array<{ name: string; type: string; value: string }>;
  };
  const transport = (port: number, auth?: { user: string; pass: string }) =>
    nodemailer.createTransport({
      host: ip,
      port,
      secure: false,
      requireTLS: true,
      name: 'client.test',
      tls: { ca: caPem, servername: MAIL_NAME },
      ...(auth ? { auth } : {}),
    });
  const inbox = async (who: { user: string; pass: string }) => {
    const client = new ImapFlow({
      host: ip,
      port: 993,
      secure: true,
      auth: who,
      tls: { ca: caPem, servername: MAIL_NAME },
      logger: false,
    });
    await client.connect();
    const out: Array<{ subject: string; source: Buffer }> = [];
    try {
      const box = await client.mailboxOpen('INBOX');
      if (box.exists > 0)
        for await (const m of client.fetch('1:*', { envelope: true, source: true }))
          out.push({ subject: m.envelope?.subject ?? '', source: m.source ?? Buffer.alloc(0) });
    } finally {
      await client.logout().catch(() => undefined);
    }
    return out;
  };
  const resolverFor = async () => {
    const zone = await dnsRecords();
    return async (name: string, rr: string) => {
      const fqdn = name.replace(/\.$/, '').toLowerCase();
      const hits = zone.filter(
        (r) => r.type === rr && (r.name === '@' ? DOMAIN : `${r.name}.${DOMAIN}`) === fqdn,
      );
      if (hits.length === 0) throw Object.assign(new Error(`ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
      return hits.map((h) => (rr === 'TXT' ? [h.value] : h.value));
    };
  };
  const verifyDkim = async (raw: Buffer, sender: string) => {
    const res = await authenticate(raw, {
      ip: '192.0.2.10',
      helo: MAIL_NAME,
      sender,
      mta: 'verifier.test',
      resolver: (await resolverFor()) as never,
      disableArc: true,
      disableBimi: true,
    });
    return res.dkim.results;
  };
  const restart = async () => {
    const t0 = Date.now();
    await engine.docker.getContainer(container).restart({ t: 20 });
    assert.ok(Date.now() - t0 < 15_000, 'SIGTERM was not handled: the stop waited for the kill');
    await untilHealthy(container, service.c);
  };

  before(async () => {
    service = await builtin('email');
    manifest = service.manifest;
    const tag = 'pic-storetest-email-mail:latest';
    await buildImage(engine.docker, { context: service.context, tag });

    // The test's CA: a root and an intermediate as the cell has; the leaf for mail.<domain>.
    const now = new Date();
    const names = { organisation: 'PIC test', root: 'PIC test root', intermediate: 'PIC test intermediate' };
    const root = await createRoot(names, now, 30);
    ca = await createIntermediate(root, names, now, 30);
    caPem = certPem(root.cert);

    await engine.docker.createNetwork({ Name: network, Driver: 'bridge', CheckDuplicate: true });
    const net0 = await engine.docker.getNetwork(network).inspect();
    gateway = net0.IPAM?.Config?.[0]?.Gateway ?? '';
    assert.ok(gateway, 'the network has no gateway');
    // Each volume root-owned 0700 (the container's user), as the store makes it; no certificate yet.
    const run = await runStore({
      service,
      name: container,
      image: tag,
      network,
      base,
      env: { PIC_CELL_DOMAIN: DOMAIN },
    });
    vols = run.dirs;
    ip = run.ip;
  });

  after(async () => {
    await new Promise<void>((resolve) => (sink ? sink.close(() => resolve()) : resolve()));
    await removeAll([container], network, [base]);
  });

  test('read-only root, only the store’s capabilities; daemons drop root; the DKIM key is 0600; UNIX sockets, no loopback TCP', async () => {
    const w = await exec(['touch', '/etc/pic-test']);
    assert.notEqual(w.exitCode, 0, 'the root file system is writable');
    const caps = await exec(['grep', '^CapEff', '/proc/1/status']);
    // CHOWN DAC_OVERRIDE FOWNER KILL SETGID SETUID NET_BIND_SERVICE = bits 0 1 3 5 6 7 10.
    assert.match(caps.stdout, /CapEff:\s+0+4eb$/m);
    const top = await engine.docker.getContainer(container).top({ ps_args: '-eo pid,uid,args' });
    const procs = (top.Processes as string[][]).map((p) => [p[1]!, p[2]!] as const);
    const uidOf = (re: RegExp) => procs.filter(([, cmd]) => re.test(cmd)).map(([uid]) => uid);
    assert.deepEqual([...new Set(uidOf(/^smtpd /))], ['940'], 'smtpd runs as postfix');
    assert.deepEqual([...new Set(uidOf(/^opendkim /))], ['942'], 'opendkim drops to its user');
    const key = await exec(['stat', '-c', '%a %U', '/var/lib/pic-mail-dkim/pic.private']);
    assert.equal(key.stdout.trim(), '600 opendkim');
    // OpenDKIM and quota-status on UNIX sockets in the queue directory, nothing on loopback TCP.
    const socks = await exec([
      'stat',
      '-c',
      '%n %F %a %U:%G',
      '/var/spool/postfix/opendkim',
      '/var/spool/postfix/opendkim/opendkim.sock',
      '/var/spool/postfix/private/quota-status',
    ]);
    assert.deepEqual(socks.stdout.trim().split('\n'), [
      '/var/spool/postfix/opendkim directory 750 opendkim:postfix',
      '/var/spool/postfix/opendkim/opendkim.sock socket 770 opendkim:opendkim',
      '/var/spool/postfix/private/quota-status socket 660 postfix:postfix',
    ]);
    const groups = await exec(['id', '-nG', 'postfix']);
    assert.ok(groups.stdout.trim().split(' ').includes('opendkim'), 'postfix is in the opendkim group');
    const tcp = await exec(['cat', '/proc/net/tcp']);
    // Column 2 is local address:port in hex, column 4 the state (0A: LISTEN); 0100007F is 127.0.0.1.
    const loopbackListeners = tcp.stdout
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[3] === '0A' && f[1]?.startsWith('0100007F:'))
      .map((f) => f[1]);
    assert.deepEqual(loopbackListeners, [], 'no daemon listens on loopback TCP');
  });

  test('TLS: a placeholder until the store writes the certificate, then the tls reload hook', async () => {
    const tryImaps = () =>
      new Promise<string>((resolve) => {
        const s = tls.connect({ host: ip, port: 993, ca: caPem, servername: MAIL_NAME }, () => {
          resolve('verified');
          s.destroy();
        });
        s.on('error', (e) => resolve(e.message));
      });
    assert.notEqual(await tryImaps(), 'verified', 'the placeholder must not chain to the test CA');

    const leaf = await issueLeaf(
      ca,
      { commonName: MAIL_NAME, names: [MAIL_NAME], days: 30, clientAuth: false },
      new Date(),
    );
    writeTls(vols.tls!, {
      fullchain: certPem(leaf.cert) + certPem(ca.cert),
      privkey: leaf.privateKeyPem,
      ca: caPem,
    });
    const r = await hook(manifest.tls?.reload);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(
      await waitFor('the new certificate on 993', async () =>
        (await tryImaps()) === 'verified' ? 'verified' : undefined,
      ),
      'verified',
    );
    const s = await smtpSession(ip, 587, caPem);
    s.close();
  });

  test('accounts: add, list, remove (the Maildir is kept aside); bcrypt hashes only', async () => {
    await account('add', ALICE.user, ALICE.pass);
    await account('add', BOB.user, BOB.pass);
    await account('add', CAROL.user, CAROL.pass);
    assert.deepEqual((await account('list')).trim().split('\n').sort(), ['alice', 'bob', 'carol']);
    const users = (await exec(['cat', '/var/lib/pic-mail/users'])).stdout;
    for (const line of users.trim().split('\n')) assert.match(line, /^[a-z]+:\{BLF-CRYPT\}\$2y\$10\$/);
    assert.doesNotMatch(users, /correct horse|another long|carol password/);

    // carol receives one message, then her account is removed: the mail stays in the volume.
    const s = await smtpSession(ip, 25);
    assert.equal((await s.cmd('MAIL FROM:<someone@outside.example>'))?.code, 250);
    assert.equal((await s.cmd(`RCPT TO:<carol@${DOMAIN}>`))?.code, 250);
    assert.equal((await s.cmd('DATA'))?.code, 354);
    assert.equal((await s.cmd('Subject: for carol\r\n\r\nhello carol\r\n.'))?.code, 250);
    s.close();
    await waitFor('carol’s delivery', async () =>
      (await exec(['sh', '-c', 'ls /var/mail/vmail/carol/Maildir/new | wc -l'])).stdout.trim() === '1'
        ? true
        : undefined,
    );
    await account('remove', CAROL.user);
    assert.deepEqual((await account('list')).trim().split('\n').sort(), ['alice', 'bob']);
    const kept = await exec(['sh', '-c', 'ls /var/mail/vmail/.removed/carol-*/Maildir/new | wc -l']);
    assert.equal(kept.stdout.trim(), '1', kept.stderr);
    const s2 = await smtpSession(ip, 25);
    assert.equal((await s2.cmd('MAIL FROM:<someone@outside.example>'))?.code, 250);
    const gone = await s2.cmd(`RCPT TO:<carol@${DOMAIN}>`);
    assert.equal(gone?.code, 550, JSON.stringify(gone));
    s2.close();
    // Invalid usernames never reach a file.
    for (const bad of ['../x', 'a b', '-x', 'A']) {
      const r = await exec(['/usr/local/bin/pic-mail-account', 'add', bad], 'pw\n');
      assert.equal(r.exitCode, 2, bad);
    }
  });

  test('dns-records: MX, SPF, DKIM (the generated key), DMARC', async () => {
    const recs = await dnsRecords();
    assert.deepEqual(
      recs.map((r) => [r.name, r.type]),
      [
        ['@', 'MX'],
        ['@', 'TXT'],
        ['pic._domainkey', 'TXT'],
        ['_dmarc', 'TXT'],
      ],
    );
    assert.equal(recs[0]?.value, `10 ${MAIL_NAME}.`);
    assert.equal(recs[1]?.value, 'v=spf1 mx -all');
    assert.match(recs[2]?.value ?? '', /^v=DKIM1; k=rsa; p=[A-Za-z0-9+/]{300,}=*$/);
    assert.equal(recs[3]?.value, 'v=DMARC1; p=quarantine; adkim=s; aspf=s');
  });

  test('alice sends to bob on 587 (STARTTLS, login); bob reads it over IMAPS; DKIM verifies', async () => {
    const info = await transport(587, ALICE).sendMail({
      from: `Alice <alice@${DOMAIN}>`,
      to: `bob@${DOMAIN}`,
      subject: 'Hello Bob',
      text: 'Lunch on Friday?',
    });
    assert.deepEqual(info.accepted, [`bob@${DOMAIN}`]);
    const msg = await waitFor('the message in bob’s inbox', async () =>
      (await inbox(BOB)).find((m) => m.subject === 'Hello Bob'),
    );
    const raw = msg.source.toString();
    assert.match(raw, /Lunch on Friday\?/);
    assert.match(raw, /^DKIM-Signature: .*d=home\.cell/m);
    const dkim = await verifyDkim(msg.source, `alice@${DOMAIN}`);
    assert.equal(dkim[0]?.status.result, 'pass', JSON.stringify(dkim));
    assert.equal(dkim[0]?.signingDomain, DOMAIN);
    // alice cannot read bob's mailbox with her own password.
    await assert.rejects(inbox({ user: BOB.user, pass: ALICE.pass }));
  });

  test('a stranger on 25 cannot relay to an outside domain (5xx) but can deliver to bob', async () => {
    const s = await smtpSession(ip, 25);
    assert.equal((await s.cmd('MAIL FROM:<stranger@outside.example>'))?.code, 250);
    const relay = await s.cmd('RCPT TO:<victim@elsewhere.example>');
    assert.ok(relay && relay.code >= 500 && relay.code < 600, JSON.stringify(relay));
    assert.match(relay.text, /Relay access denied/);
    // Neither an address literal nor source routing gets around it.
    for (const rcpt of [
      '<victim@[192.0.2.7]>',
      `<@${MAIL_NAME}:victim@elsewhere.example>`,
      '<victim%elsewhere.example@home.cell>',
    ]) {
      const r = await s.cmd(`RCPT TO:${rcpt}`);
      assert.ok(r && r.code >= 500, `${rcpt}: ${JSON.stringify(r)}`);
    }
    // Claiming a cell address without logging in is refused too.
    await s.cmd('RSET');
    const spoof = await s.cmd(`MAIL FROM:<alice@${DOMAIN}>`);
    const spoofRcpt = spoof?.code === 250 ? await s.cmd(`RCPT TO:<bob@${DOMAIN}>`) : spoof;
    assert.ok(spoofRcpt && spoofRcpt.code >= 500, JSON.stringify(spoofRcpt));
    s.close();

    const info = await nodemailer
      .createTransport({
        host: ip,
        port: 25,
        secure: false,
        name: 'client.test',
        tls: { ca: caPem, servername: MAIL_NAME },
      })
      .sendMail({
        // A header From in the cell's domain: delivered, but never signed with the cell's key.
        from: `alice@${DOMAIN}`,
        envelope: { from: 'stranger@outside.example', to: `bob@${DOMAIN}` },
        to: `bob@${DOMAIN}`,
        subject: 'From outside',
        text: 'hi',
      });
    assert.deepEqual(info.accepted, [`bob@${DOMAIN}`]);
    const got = await waitFor('the stranger’s message', async () =>
      (await inbox(BOB)).find((m) => m.subject === 'From outside'),
    );
    assert.doesNotMatch(got.source.toString(), /^DKIM-Signature:/m, 'a stranger’s message was signed');
    const q = await status();
    assert.equal(q.queue.filter((e) => e.recipients.includes('victim@elsewhere.example')).length, 0);
  });

  test('submission: no login, no STARTTLS or another’s address is refused', async () => {
    await assert.rejects(
      transport(587).sendMail({ from: `alice@${DOMAIN}`, to: `bob@${DOMAIN}`, subject: 'x', text: 'x' }),
      (e: { responseCode?: number }) => (e.responseCode ?? 0) >= 500,
    );
    await assert.rejects(
      transport(587).sendMail({
        from: 'x@outside.example',
        to: 'y@elsewhere.example',
        subject: 'x',
        text: 'x',
      }),
      (e: { responseCode?: number }) => (e.responseCode ?? 0) >= 500,
    );
    // Without STARTTLS the server offers no AUTH and refuses one.
    const plain = await smtpSession(ip, 587);
    const auth = await plain.authPlain(ALICE.user, ALICE.pass);
    assert.ok(auth && auth.code >= 500, JSON.stringify(auth));
    plain.close();
    await assert.rejects(
      transport(587, ALICE).sendMail({ from: `bob@${DOMAIN}`, to: `bob@${DOMAIN}`, subject: 'x', text: 'x' }),
      (e: { responseCode?: number; response?: string }) =>
        e.responseCode === 553 && /not owned by user alice/.test(e.response ?? ''),
    );
    await assert.rejects(
      transport(587, ALICE).sendMail({
        from: 'alice@outside.example',
        to: `bob@${DOMAIN}`,
        subject: 'x',
        text: 'x',
      }),
      (e: { responseCode?: number }) => e.responseCode === 553,
    );
    // alice@home.cell logs in with her full address as well.
    const full = await transport(587, { user: `alice@${DOMAIN}`, pass: ALICE.pass }).sendMail({
      from: `alice@${DOMAIN}`,
      to: `alice@${DOMAIN}`,
      subject: 'note to self',
      text: 'x',
    });
    assert.equal(full.accepted.length, 1);
  });

  test('aliases: mail for info@ reaches bob, who may send as info@; nobody else may', async () => {
    const r = await settings({ aliases: [{ alias: 'info', to: 'bob' }] });
    assert.equal(r.exitCode, 0, r.stderr);
    const s = await smtpSession(ip, 25);
    assert.equal((await s.cmd('MAIL FROM:<someone@outside.example>'))?.code, 250);
    assert.equal((await s.cmd(`RCPT TO:<info@${DOMAIN}>`))?.code, 250);
    assert.equal((await s.cmd('DATA'))?.code, 354);
    assert.equal((await s.cmd('Subject: for info\r\n\r\nhello info\r\n.'))?.code, 250);
    s.close();
    await waitFor('the alias’s delivery', async () =>
      (await inbox(BOB)).find((m) => m.subject === 'for info'),
    );
    const sent = await transport(587, BOB).sendMail({
      from: `info@${DOMAIN}`,
      to: `alice@${DOMAIN}`,
      subject: 'as info',
      text: 'x',
    });
    assert.equal(sent.accepted.length, 1);
    await assert.rejects(
      transport(587, ALICE).sendMail({
        from: `info@${DOMAIN}`,
        to: `bob@${DOMAIN}`,
        subject: 'x',
        text: 'x',
      }),
      (e: { responseCode?: number }) => e.responseCode === 553,
    );
  });

  test('rendered configuration matches the golden files (UPDATE_GOLDEN=1 rewrites them)', async () => {
    const files = [
      '/etc/postfix/main.cf',
      '/etc/postfix/virtual',
      '/etc/postfix/senders',
      '/etc/postfix/vmailbox',
      '/etc/postfix/quota_domains',
      '/etc/postfix/own_domain',
      '/etc/postfix/sasl_passwd',
      '/etc/dovecot/pic-local.conf',
      '/etc/opendkim.conf',
    ];
    const cases: Array<[string, Record<string, unknown>]> = [
      [
        // 127.0.0.1: the queue is empty now, and a flush must not reach for anything off the machine.
        'smarthost',
        {
          smarthost_host: '127.0.0.1',
          smarthost_port: 465,
          smarthost_username: 'cell@provider.example',
          smarthost_password: 'p4ss w0rd',
          smarthost_verify: false,
          quota_mb: 2048,
          aliases: [
            { alias: 'info', to: 'bob' },
            { alias: 'sales', to: 'alice' },
            { alias: 'ghost', to: 'nobody' },
            { alias: 'alice', to: 'bob' },
          ],
        },
      ],
      [
        // The certificate checked (the default); .invalid never resolves, and the queue is empty.
        'smarthost-verified',
        {
          smarthost_host: 'relay.provider.invalid',
          smarthost_username: 'cell@provider.example',
          smarthost_password: 'p4ss w0rd',
        },
      ],
      ['default', { aliases: [{ alias: 'info', to: 'bob' }] }],
    ];
    for (const [name, values] of cases) {
      const r = await settings(values);
      assert.equal(r.exitCode, 0, r.stderr);
      let actual = '';
      for (const f of files) {
        const c = await exec(['cat', f]);
        actual += `==> ${f} <==\n${c.exitCode === 0 ? c.stdout : '(absent)\n'}`;
      }
      const path = join(import.meta.dirname, 'golden', `store-email-${name}.golden`);
      if (process.env.UPDATE_GOLDEN === '1') {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, `${JSON.stringify(values, null, 2)}${SEPARATOR}${actual}`);
        continue;
      }
      const text = readFileSync(path, 'utf8');
      assert.deepEqual(JSON.parse(text.slice(0, text.indexOf(SEPARATOR))), values, `${path}: input`);
      assert.equal(actual, text.slice(text.indexOf(SEPARATOR) + SEPARATOR.length), path);
    }
  });

  test('without a smarthost, outside mail waits in the queue and status shows why', async () => {
    const info = await transport(587, ALICE).sendMail({
      from: `alice@${DOMAIN}`,
      to: 'dave@outside.example',
      subject: 'To the outside',
      text: 'This waits for a smarthost.',
    });
    assert.deepEqual(info.accepted, ['dave@outside.example']);
    const entry = await waitFor('the deferred message in status', async () =>
      (await status()).queue.find((e) => e.recipients.includes('dave@outside.example') && e.reason),
    );
    assert.equal(entry.sender, `alice@${DOMAIN}`);
    assert.match(entry.reason ?? '', /no smarthost is set/);
    assert.match(entry.arrival, /^\d{4}-\d\d-\d\dT/);
    assert.ok(entry.size > 0);
    assert.equal((await status()).smarthost, null);
  });

  test('the queue and the mailboxes survive a restart', async () => {
    const before = (await status()).queue.map((e) => e.id).sort();
    assert.ok(before.length >= 1);
    await restart();
    assert.deepEqual((await status()).queue.map((e) => e.id).sort(), before);
    const subjects = (await inbox(BOB)).map((m) => m.subject);
    for (const s of ['Hello Bob', 'From outside', 'for info'])
      assert.ok(subjects.includes(s), `${s}: ${subjects}`);
    assert.deepEqual((await account('list')).trim().split('\n').sort(), ['alice', 'bob']);
  });

  test('hostile settings are refused by the apply hook, and nothing changes', async () => {
    const snapshot = async () =>
      createHash('sha256')
        .update(
          (
            await exec([
              'cat',
              '/var/lib/pic-mail/settings.json',
              '/etc/postfix/main.cf',
              '/etc/postfix/virtual',
              '/etc/dovecot/pic-local.conf',
            ])
          ).stdout,
        )
        .digest('hex');
    const was = await snapshot();
    const hostile: Array<[string, string]> = [
      ['smarthost_host', JSON.stringify({ smarthost_host: 'relay.example\nrelayhost = evil.example' })],
      ['smarthost_host', JSON.stringify({ smarthost_host: '../../etc/passwd' })],
      ['smarthost_host', JSON.stringify({ smarthost_host: 'relay.example;touch /tmp/x' })],
      ['smarthost_host', JSON.stringify({ smarthost_host: '$(reboot)' })],
      ['smarthost_port', JSON.stringify({ smarthost_host: 'relay.example', smarthost_port: '25\n' })],
      ['smarthost_port', JSON.stringify({ smarthost_host: 'relay.example', smarthost_port: 70000 })],
      [
        'smarthost_username',
        JSON.stringify({
          smarthost_host: 'relay.example',
          smarthost_username: 'u\nrelayhost = evil.example',
          smarthost_password: 'p',
        }),
      ],
      [
        'smarthost_username',
        JSON.stringify({
          smarthost_host: 'relay.example',
          smarthost_username: 'u:x y',
          smarthost_password: 'p',
        }),
      ],
      [
        'smarthost_password',
        JSON.stringify({
          smarthost_host: 'relay.example',
          smarthost_username: 'u',
          smarthost_password: 'p\u2028q',
        }),
      ],
      [
        'smarthost_password',
        JSON.stringify({
          smarthost_host: 'relay.example',
          smarthost_username: 'u',
          smarthost_password: 'p\nq',
        }),
      ],
      ['smarthost_verify', JSON.stringify({ smarthost_host: 'relay.example', smarthost_verify: 'no' })],
      // A certificate cannot be checked against an address: every message would stay queued.
      ['smarthost_host', JSON.stringify({ smarthost_host: '192.0.2.1' })],
      ['smarthost_host', JSON.stringify({ smarthost_host: '2001:db8::1', smarthost_verify: true })],
      ['quota_mb', JSON.stringify({ quota_mb: '10; rm -rf /' })],
      ['quota_mb', JSON.stringify({ quota_mb: 5 })],
      ['aliases', JSON.stringify({ aliases: [{ alias: 'x\ny', to: 'bob' }] })],
      ['aliases', JSON.stringify({ aliases: [{ alias: '../bob', to: 'bob' }] })],
      ['aliases', JSON.stringify({ aliases: [{ alias: 'ok', to: 'bob@evil' }] })],
      ['aliases', JSON.stringify({ aliases: [{ alias: 'ok', to: 'bob', extra: 1 }] })],
      ['unknown key', JSON.stringify({ relayhost: 'evil.example' })],
      ['not valid JSON', '{"smarthost_host": '],
      ['one JSON object', '[]'],
    ];
    for (const [field, body] of hostile) {
      const r = await hook(manifest.settings?.apply, body);
      assert.equal(r.exitCode, 2, `${body}: exit ${r.exitCode} ${r.stderr}`);
      assert.ok(r.stderr.includes(field), `${body}: ${r.stderr}`);
    }
    assert.equal(await snapshot(), was);
    assert.equal((await exec(['ls', '/var/lib/pic-mail/tmp'])).stdout.trim(), '');
  });

  type Relayed = (typeof sunk)[number];
  /**
   * An SMTP relay on the Docker gateway (smtp-server's own self-signed certificate, no reverse
   * lookup: nothing leaves the machine): `login` decides each AUTH, `received` gets each message.
   */
  const startRelay = async (
    login: (username: string, password: string) => boolean,
    received: (m: Relayed) => void = () => undefined,
  ) => {
    const server = new SMTPServer({
      authMethods: ['PLAIN', 'LOGIN'],
      disableReverseLookup: true,
      onAuth(auth, _session, cb) {
        if (login(auth.username ?? '', auth.password ?? '')) cb(null, { user: auth.username });
        else cb(new Error('bad credentials'));
      },
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (b: Buffer) => chunks.push(b));
        stream.on('end', () => {
          received({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks),
            secure: session.secure,
            user: session.user as string | undefined,
          });
          cb();
        });
      },
      logger: false,
    });
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.server.listen(0, gateway, () => resolve((server.server.address() as net.AddressInfo).port));
    });
    return { server, port };
  };

  test('with the certificate check on, a relay that cannot prove its name never gets the login', async () => {
    const tried: string[] = [];
    const { server: impostor, port } = await startRelay((username) => {
      tried.push(username);
      return false;
    });
    try {
      // The relay's name, as a LAN relay would be named in /etc/hosts (no DNS query leaves for it):
      // appended to the file Docker mounts there, read-only inside the container.
      const { HostsPath } = await engine.docker.getContainer(container).inspect();
      appendFileSync(HostsPath, `${gateway} relay.pic-test.invalid\n`);
      const r = await settings({
        smarthost_host: 'relay.pic-test.invalid',
        smarthost_port: port,
        smarthost_username: SINK.user,
        smarthost_password: SINK.pass,
        aliases: [{ alias: 'info', to: 'bob' }],
      });
      assert.equal(r.exitCode, 0, r.stderr);
      const info = await transport(587, ALICE).sendMail({
        from: `alice@${DOMAIN}`,
        to: 'erin@outside.example',
        subject: 'Through an impostor',
        text: 'This must wait.',
      });
      assert.deepEqual(info.accepted, ['erin@outside.example']);
      // smtp-server's own self-signed certificate names no relay: Postfix stops before AUTH.
      const entry = await waitFor(
        'the message deferred for the relay certificate',
        async () =>
          (await status()).queue.find(
            (e) => e.recipients.includes('erin@outside.example') && /certificate/i.test(e.reason ?? ''),
          ),
        60_000,
      );
      assert.match(entry.reason ?? '', /certificate/i);
      assert.deepEqual(tried, [], 'the login went to a relay that did not prove its name');
    } finally {
      await new Promise<void>((resolve) => impostor.close(() => resolve()));
    }
  });

  test('with a smarthost set, the queued message goes out over TLS with AUTH, DKIM-signed', async () => {
    const { server: srv, port } = await startRelay(
      (username, password) => username === SINK.user && password === SINK.pass,
      (message) => sunk.push(message),
    );
    sink = srv;
    // smtp-server's own self-signed certificate, reached by address: the owner turns the check off,
    // as for a relay on their own network.
    const r = await settings({
      smarthost_host: gateway,
      smarthost_port: port,
      smarthost_username: SINK.user,
      smarthost_password: SINK.pass,
      smarthost_verify: false,
      aliases: [{ alias: 'info', to: 'bob' }],
    });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal((await status()).smarthost, `${gateway}:${port}`);
    const got = await waitFor(
      'the queued message at the sink',
      async () => sunk.find((m) => m.to.includes('dave@outside.example')),
      60_000,
    );
    assert.equal(got.from, `alice@${DOMAIN}`);
    assert.equal(got.secure, true, 'sent without TLS');
    assert.equal(got.user, SINK.user);
    const dkim = await verifyDkim(got.raw, got.from);
    assert.equal(dkim[0]?.status.result, 'pass', JSON.stringify(dkim));
    await waitFor('an empty queue', async () => ((await status()).queue.length === 0 ? true : undefined));
    // The password is in the SASL table only (0600), never in main.cf or the logs.
    assert.doesNotMatch((await exec(['cat', '/etc/postfix/main.cf'])).stdout, /s3cret/);
    assert.equal((await exec(['stat', '-c', '%a', '/etc/postfix/sasl_passwd'])).stdout.trim(), '600');
    assert.doesNotMatch(await engine.logs(container, 500), /s3cret/);
  });

  test('quota: mail for a full mailbox is refused at RCPT with a clear reason', async () => {
    const r = await settings({ quota_mb: 10, aliases: [{ alias: 'info', to: 'bob' }] });
    assert.equal(r.exitCode, 0, r.stderr);
    const fill = await exec(
      [
        'sh',
        '-c',
        'head -c 11000000 /dev/zero | tr "\\0" x > /var/mail/vmail/bob/Maildir/cur/1.big:2,S && doveadm quota recalc -u bob',
      ],
      undefined,
      '945:945',
    );
    assert.equal(fill.exitCode, 0, fill.stderr);
    const s = await smtpSession(ip, 25);
    assert.equal((await s.cmd('MAIL FROM:<someone@outside.example>'))?.code, 250);
    const full = await s.cmd(`RCPT TO:<bob@${DOMAIN}>`);
    assert.equal(full?.code, 552, JSON.stringify(full));
    assert.match(full?.text ?? '', /quota/i);
    const other = await s.cmd(`RCPT TO:<alice@${DOMAIN}>`);
    assert.equal(other?.code, 250, 'alice’s mailbox has room');
    s.close();
  });

  test('idle memory is within the goal (60 MB)', async (t) => {
    await new Promise((r) => setTimeout(r, 2000));
    const s = (await engine.docker.getContainer(container).stats({ stream: false })) as {
      memory_stats: { usage: number; stats?: Record<string, number> };
    };
    const m = s.memory_stats;
    const mib = (m.usage - (m.stats?.inactive_file ?? m.stats?.total_inactive_file ?? 0)) / 1024 / 1024;
    t.diagnostic(`email idle memory: ${mib.toFixed(1)} MiB`);
    assert.ok(mib <= 60, `${mib.toFixed(1)} MiB`);
  });

  test('a wrong password is refused after a delay; repeated failures end the connection', {
    timeout: 120_000,
  }, async () => {
    await restart(); // anvil starts counting afresh
    const s = await smtpSession(ip, 587, caPem);
    const t0 = Date.now();
    const r = await s.authPlain(ALICE.user, 'wrong password');
    const ms = Date.now() - t0;
    assert.equal(r?.code, 535, JSON.stringify(r));
    // Dovecot answers a failure after auth_failure_delay (2 s, checked every 0.5 s) and adds a
    // growing penalty per client address; Postfix ends the session at its hard error limit (5).
    assert.ok(ms >= 1000, `refused after ${ms} ms: not slowed`);
    let closedAfter = 0;
    for (let i = 2; i <= 8; i++) {
      const again = await s.authPlain(ALICE.user, `wrong ${i}`);
      if (!again || again.code === 421 || s.closed) {
        closedAfter = i;
        break;
      }
      // 454: Postfix stopped waiting for Dovecot's (penalised) answer; a failure all the same.
      assert.ok([535, 454].includes(again.code), JSON.stringify(again));
    }
    assert.ok(closedAfter > 0 && closedAfter <= 6, `still talking after ${closedAfter || 8} failures`);
    s.close();
    const logs = await engine.logs(container, 200);
    assert.doesNotMatch(logs, /wrong password|wrong \d/);
  });

  test('AUTH commands from one client address are rate-limited (anvil)', async () => {
    await restart(); // anvil starts counting afresh
    let refusedAt = 0;
    for (let i = 1; i <= 40 && !refusedAt; i++) {
      const s = await smtpSession(ip, 587, caPem);
      const r = await s.authPlain(ALICE.user, ALICE.pass);
      if (r?.code !== 235) {
        assert.ok(r && r.code >= 400 && r.code < 500, JSON.stringify(r));
        assert.match(r.text, /too many AUTH/i);
        refusedAt = i;
      }
      s.close();
    }
    assert.equal(refusedAt, 21, 'smtpd_client_auth_rate_limit = 20 a minute');
  });
});
