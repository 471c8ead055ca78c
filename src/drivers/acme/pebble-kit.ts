// Test helper (not shipped behaviour): Debian's Pebble ACME server and its challenge test server on
// loopback ports, nothing off this machine. Pebble resolves every name through challtestsrv's DNS,
// so a TXT record set through challtestsrv's management API is what Pebble's DNS-01 check reads.
// Pebble's own HTTPS uses a throwaway self-signed certificate made here (the Debian package ships
// none); its issuing root changes on every start and is read from its management endpoint.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pebble {
  directoryUrl: string;
  /** Pebble's listener certificate: trust it for the directory's HTTPS. */
  tlsCaPem: string;
  /** challtestsrv's management API, e.g. http://127.0.0.1:1234 (POST /set-txt {host, value}). */
  challtestUrl: string;
  /** The root Pebble issues under (GET /roots/0 on its management port). */
  root(): Promise<string>;
  /** The intermediate that signed the leaves (GET /intermediates/0). */
  dir: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function listening(port: number, child: ChildProcess, what: string, host = '127.0.0.1'): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode})`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, host);
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} is not listening on ${port}`);
}

function get(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { agent: new Agent({ ca }) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });
}

export interface PebbleOptions {
  /** The port Pebble dials for HTTP-01 on the address a name resolves to (default: an unused one). */
  httpPort?: number;
  /**
   * The address Pebble's ACME listener binds (default 127.0.0.1); a real cell's containers reach the
   * host at its default-route address. The listener certificate names it.
   */
  listen?: string;
  /** What challtestsrv answers for every A query (default 127.0.0.1): the public-DNS stand-in. */
  resolveTo?: string;
}

/** Starts challtestsrv then Pebble. */
export async function startPebble(opts: PebbleOptions = {}): Promise<Pebble> {
  const listen = opts.listen ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'pic-pebble-'));
  const [dnsPort, mgmtPort, acmePort, pebbleMgmt, tlsPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=pebble test listener',
      '-addext',
      `subjectAltName=IP:127.0.0.1,DNS:localhost${listen === '127.0.0.1' ? '' : `,IP:${listen}`}`,
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  writeFileSync(
    join(dir, 'pebble.json'),
    JSON.stringify({
      pebble: {
        listenAddress: `${listen}:${acmePort}`,
        managementListenAddress: `127.0.0.1:${pebbleMgmt}`,
        certificate: join(dir, 'cert.pem'),
        privateKey: join(dir, 'key.pem'),
        httpPort: opts.httpPort ?? (await freePort()),
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  );
  const chall = spawn(
    'pebble-challtestsrv',
    [
      '-dns01',
      `127.0.0.1:${dnsPort}`,
      '-management',
      `127.0.0.1:${mgmtPort}`,
      '-http01',
      '',
      '-https01',
      '',
      '-tlsalpn01',
      '',
      '-defaultIPv4',
      opts.resolveTo ?? '127.0.0.1',
      '-defaultIPv6',
      '',
    ],
    { stdio: 'ignore' },
  );
  const env = { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' };
  const pebble = spawn(
    'pebble',
    ['-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dnsPort}`],
    {
      stdio: 'ignore',
      env,
    },
  );
  const stop = async () => {
    for (const c of [pebble, chall]) {
      if (c.exitCode === null && c.signalCode === null) {
        const gone = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        await gone;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await listening(mgmtPort, chall, 'pebble-challtestsrv');
    await listening(acmePort, pebble, 'pebble', listen);
    await listening(pebbleMgmt, pebble, 'pebble management');
  } catch (err) {
    await stop();
    throw err;
  }
  const tlsCaPem = execFileSync('cat', [join(dir, 'cert.pem')], { encoding: 'utf8' });
  return {
    directoryUrl: `https://${listen}:${acmePort}/dir`,
    tlsCaPem,
    challtestUrl: `http://127.0.0.1:${mgmtPort}`,
    root: () => get(`https://127.0.0.1:${pebbleMgmt}/roots/0`, tlsCaPem),
    dir,
    stop,
  };
}
