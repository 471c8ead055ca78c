// Helpers for tests that run `pic serve` as a child process (not shipped behaviour): start it on a free
// loopback port over a data directory, call its API with a session, kill it with SIGKILL or stop it,
// and look through a cell's directory for secrets left where they should not be. Every server started
// here is remembered, so a test's after() hook stops them all, also when the test failed.
import { type ChildProcess, spawn } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { constants, gunzipSync } from 'node:zlib';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

export interface Session {
  cookie: string;
  csrf: string;
}

export interface Reply {
  status: number;
  body: Buffer;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test replies are read field by field
  json: any;
  setCookie: string[];
}

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** Everything it printed (stdout and stderr). */
  output(): string;
  /** Resolves once the process has exited, whoever ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The setup token it printed (a cell not set up yet). */
  setupToken(): Promise<string>;
  /** kill -9, resolved once it has exited. */
  kill9(): Promise<void>;
  /** SIGTERM (a clean stop), resolved once it has exited; fails if it had to be killed. */
  stop(): Promise<void>;
  call(method: string, path: string, body?: unknown, session?: Session): Promise<Reply>;
}

const running = new Set<ServeProcess>();

/** Kills every server still running (an after() hook: a failed test leaves none behind). */
export async function killAll(): Promise<void> {
  for (const s of [...running]) await s.kill9();
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Starts `pic serve` over `dataDir` with extra environment variables; resolves once it listens. */
export async function startServe(dataDir: string, env: Record<string, string> = {}): Promise<ServeProcess> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [MAIN, 'serve', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PIC_DATA_PLANE: '', ...env },
    },
  );
  let out = '';
  const waiters: Array<() => void> = [];
  const seen = () => {
    for (const w of waiters.splice(0)) w();
  };
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
    seen();
  });
  child.stderr!.on('data', (b: Buffer) => {
    out += b.toString();
    seen();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(server);
      seen();
      resolve({ code, signal });
    }),
  );
  const waitFor = (what: string, found: () => string | undefined, ms = 30_000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`pic serve: no ${what} in ${ms} ms:\n${out}`)), ms);
      const check = () => {
        const hit = found();
        if (hit !== undefined) {
          clearTimeout(timer);
          return resolve(hit);
        }
        if (child.exitCode !== null || child.signalCode !== null) {
          clearTimeout(timer);
          return reject(new Error(`pic serve exited before its ${what}:\n${out}`));
        }
        waiters.push(check);
      };
      check();
    });
  const url = `http://127.0.0.1:${port}`;
  const kill = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  const server: ServeProcess = {
    url,
    child,
    output: () => out,
    exited,
    setupToken: () =>
      waitFor('setup token', () => {
        const lines = out.split('\n');
        const at = lines.findIndex((l) => l.includes('Setup token'));
        return at >= 0 && lines[at + 2] !== undefined ? lines[at + 1]!.trim() : undefined;
      }),
    kill9: () => kill('SIGKILL'),
    // A clean stop that hangs is a failure, not a wait until the test's timeout: SIGKILL after 20 s.
    stop: async () => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await kill('SIGTERM');
      clearTimeout(timer);
      if (child.signalCode === 'SIGKILL') throw new Error(`pic serve did not stop on SIGTERM:\n${out}`);
    },
    call: (method, path, body, session) => call(url, method, path, body, session),
  };
  running.add(server);
  await waitFor('"listening on"', () => (out.includes(' listening on ') ? '' : undefined));
  return server;
}

/**
 * One request on its own connection (Connection: close): a server's clean stop then never waits for an
 * idle keep-alive connection of this process to time out.
 */
function call(
  url: string,
  method: string,
  path: string,
  body: unknown,
  session: Session | undefined,
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (session) {
    headers.cookie = session.cookie;
    headers['x-csrf-token'] = session.csrf;
  }
  let payload: Buffer | undefined;
  if (Buffer.isBuffer(body)) {
    headers['content-type'] = 'application/octet-stream';
    payload = body;
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = Buffer.from(JSON.stringify(body));
  }
  if (payload) headers['content-length'] = String(payload.length);
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers, agent: false, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const text = bytes.toString();
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        const setCookie = res.headers['set-cookie'] ?? [];
        resolve({ status: res.statusCode ?? 0, body: bytes, text, json, setCookie });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Logs in (or completes setup): the session its answer started (the cookie and the CSRF token). */
export async function startSession(url: string, path: string, body: object): Promise<Session> {
  const res = await call(url, 'POST', path, body, undefined);
  if (res.status !== 200 && res.status !== 201) throw new Error(`${path}: ${res.status} ${res.text}`);
  const cookie = res.setCookie
    .map((c) => c.split(';')[0]!)
    .find((pair) => pair.indexOf('=') > 0 && pair.slice(pair.indexOf('=') + 1) !== '');
  if (!cookie) throw new Error(`${path}: no session cookie in the answer`);
  return { cookie, csrf: res.json.csrf_token };
}

/** Every regular file under `root`, relative to it (symlinks are not followed). */
export function filesUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      const st = lstatSync(full);
      if (st.isDirectory()) walk(full);
      else if (st.isFile()) out.push(relative(root, full));
    }
  };
  walk(root);
  return out.sort();
}

export const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/**
 * Files under `root` (except those `allowed`) that hold any of `needles`: as they are, or once
 * gunzipped when they start like a gzip stream (a cut one too: what was written before a kill).
 */
export function secretHolders(root: string, needles: string[], allowed: (rel: string) => boolean): string[] {
  const hits: string[] = [];
  for (const rel of filesUnder(root)) {
    // The WAL index holds no row data (and the live database files are allowed anyway).
    if (allowed(rel) || rel.endsWith('-shm')) continue;
    const bytes = readFileSync(join(root, rel));
    const views = [bytes];
    if (bytes.subarray(0, 2).equals(GZIP_MAGIC)) {
      try {
        views.push(gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH }));
      } catch {
        hits.push(`${rel} (a gzip stream that does not inflate)`);
      }
    }
    if (needles.some((n) => views.some((v) => v.includes(n)))) hits.push(rel);
  }
  return hits;
}
