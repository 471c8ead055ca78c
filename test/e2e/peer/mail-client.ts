// A peer's mail app, run by the mail end-to-end test inside a device's network namespace (a
// node:24 container started with `--network container:<device>`): it sees only what the device sees,
// the tunnel, the cell's DNS through the device's resolv.conf (the exported config's DNS line), and
// trusts the cell's root the way a phone does once the user installed it. It never gets an address,
// a resolver or a certificate exception from the test.
//
// One job per run, as JSON in the MAIL_JOB environment variable (passwords included: never argv);
// one JSON answer on stdout.
//   {"op":"send", host, port, user, pass, from, to, subject, text, ca}
//   {"op":"read", host, port, user, pass, subject, ca}   → {found, source, dkim: [{result, domain}]}
//   {"op":"login", host, port, user, pass, ca}            → {ok, error?}
import { readFileSync } from 'node:fs';
import { ImapFlow } from 'imapflow';
import { authenticate } from 'mailauth';
import nodemailer from 'nodemailer';

interface Job {
  op: 'send' | 'read' | 'login';
  host: string;
  port: number;
  user: string;
  pass: string;
  ca: string;
  from?: string;
  to?: string;
  subject?: string;
  text?: string;
}

const job = JSON.parse(process.env.MAIL_JOB ?? '{}') as Job;
const ca = readFileSync(job.ca, 'utf8');
const out = (v: unknown) => process.stdout.write(`${JSON.stringify(v)}\n`);

async function send(): Promise<void> {
  const transport = nodemailer.createTransport({
    host: job.host,
    port: job.port,
    secure: false,
    requireTLS: true,
    auth: { user: job.user, pass: job.pass },
    tls: { ca, servername: job.host },
    connectionTimeout: 15_000,
  });
  const info = await transport.sendMail({ from: job.from, to: job.to, subject: job.subject, text: job.text });
  out({ ok: true, messageId: info.messageId, response: info.response, accepted: info.accepted });
}

function imap(): ImapFlow {
  return new ImapFlow({
    host: job.host,
    port: job.port,
    secure: true,
    auth: { user: job.user, pass: job.pass },
    tls: { ca, servername: job.host },
    logger: false,
  });
}

async function read(): Promise<void> {
  const client = imap();
  await client.connect();
  const lock = await client.getMailboxLock('INBOX');
  try {
    const uids = (await client.search({ subject: job.subject ?? '' }, { uid: true })) || [];
    if (uids.length === 0) {
      out({ found: false });
      return;
    }
    const msg = await client.fetchOne(String(uids.at(-1)), { source: true }, { uid: true });
    const source = msg ? (msg.source?.toString('utf8') ?? '') : '';
    // DKIM against the record the cell's DNS serves (the default resolver: the device's resolv.conf).
    const auth = await authenticate(Buffer.from(source), { trustReceived: false });
    const dkim = auth.dkim.results.map((r) => ({
      result: r.status.result,
      domain: r.signingDomain,
    }));
    out({ found: true, source, dkim });
  } finally {
    lock.release();
    await client.logout();
  }
}

/** One IMAPS login; `ms` is the time from connecting to the server's answer, measured here. */
async function login(): Promise<void> {
  const client = imap();
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  try {
    await client.connect();
    const took = ms();
    await client.logout();
    out({ ok: true, ms: took });
  } catch (e) {
    out({ ok: false, ms: ms(), error: (e as Error).message });
  }
}

const ops = { send, read, login } as const;
ops[job.op]().catch((e: Error & { response?: string; responseCode?: number }) => {
  out({ ok: false, error: e.message, response: e.response, responseCode: e.responseCode });
  process.exitCode = 1;
});
