// An Exec over one long-lived session of pic-dns-control (images/cell-dns/pic-dns-control) inside
// cell-dns: the session is opened once (`docker exec -i`) and reused, so each unbound-control run
// costs a few ms instead of the tens of ms of a docker exec (ADR 0017). Requests go one at a time, in
// order. A session that dies, closes or does not answer in time is dropped (the request in flight
// fails: the caller's next apply is a full one) and the next request opens a new one. Nothing new
// listens anywhere: the helper speaks to Unbound's control channel on cell-dns's own loopback.
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { ExecResult } from '../../core/ports/container-engine.ts';
import type { Exec } from './unbound-control.ts';

export interface SessionStreams {
  stdin: Writable;
  stdout: Readable;
  /** Resolves when the session's process has ended (for any reason). */
  ended: Promise<void>;
  /** Ends the session (closes its stdin and streams). */
  close(): void;
}

export type OpenSession = () => Promise<SessionStreams>;

/** The in-container path of the helper (the image installs it there). */
export const CONTROL_HELPER = '/usr/local/bin/pic-dns-control';

export class ControlSessionError extends Error {}

interface Pending {
  resolve: (r: ExecResult) => void;
  reject: (e: Error) => void;
}

export class ControlSession {
  readonly #open: OpenSession;
  readonly #timeoutMs: number;
  #session: Promise<Live> | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(open: OpenSession, opts: { timeoutMs?: number } = {}) {
    this.#open = open;
    this.#timeoutMs = opts.timeoutMs ?? 15_000;
  }

  /** The Exec UnboundControl takes. */
  readonly exec: Exec = (argv, opts = {}) => {
    const run = this.#queue.then(() => this.#run(argv, opts.stdin));
    this.#queue = run.catch(() => undefined);
    return run;
  };

  close(): void {
    const s = this.#session;
    this.#session = undefined;
    void s?.then((l) => l.close()).catch(() => undefined);
  }

  async #run(argv: string[], stdin: string | undefined): Promise<ExecResult> {
    if (argv.length === 0 || argv.some((a) => /[\t\n\r]/.test(a)))
      throw new ControlSessionError('an argument holds a tab or a newline');
    const data = stdin === undefined || stdin === '' ? [] : stdin.replace(/\n$/, '').split('\n');
    if (data.some((l) => l.includes('\r'))) throw new ControlSessionError('data holds a carriage return');
    this.#session ??= this.#start();
    const session = this.#session;
    let live: Live;
    try {
      live = await session;
    } catch (err) {
      if (this.#session === session) this.#session = undefined;
      throw err;
    }
    try {
      return await live.request(
        `${[String(data.length), ...argv].join('\t')}\n${data.map((l) => `${l}\n`).join('')}`,
        this.#timeoutMs,
      );
    } catch (err) {
      // Whatever the state of the stream now, it cannot be trusted for the next answer.
      if (this.#session === session) this.#session = undefined;
      live.close();
      throw err;
    }
  }

  async #start(): Promise<Live> {
    const streams = await this.#open();
    return new Live(streams);
  }
}

/** One open session: parses answers (header line, then stdout and stderr lines) in order. */
class Live {
  readonly #s: SessionStreams;
  #pending: Pending | undefined;
  #buf = '';
  #dead: Error | undefined;

  constructor(s: SessionStreams) {
    this.#s = s;
    s.stdout.setEncoding('utf8');
    s.stdout.on('data', (chunk: string) => {
      this.#buf += chunk;
      this.#parse();
    });
    s.stdout.on('error', (e) => this.#die(e));
    s.stdin.on('error', (e) => this.#die(e));
    void s.ended.then(() => this.#die(new ControlSessionError('the control session ended')));
  }

  request(text: string, timeoutMs: number): Promise<ExecResult> {
    if (this.#dead) return Promise.reject(this.#dead);
    return new Promise<ExecResult>((resolve, reject) => {
      const timer = setTimeout(
        () => this.#die(new ControlSessionError(`no answer from the control session in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#pending = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.#s.stdin.write(text);
    });
  }

  close(): void {
    this.#die(new ControlSessionError('the control session was closed'));
  }

  #die(err: Error): void {
    if (this.#dead) return;
    this.#dead = err;
    const p = this.#pending;
    this.#pending = undefined;
    p?.reject(err);
    this.#s.close();
  }

  #parse(): void {
    const lines = this.#buf.split('\n');
    if (lines.length < 2) return; // no complete header yet
    const m = /^(-?\d+)\t(\d+)\t(\d+)$/.exec(lines[0]!);
    if (!m) {
      this.#die(new ControlSessionError(`unexpected answer: ${lines[0]!.slice(0, 80)}`));
      return;
    }
    const nOut = Number(m[2]);
    const nErr = Number(m[3]);
    if (lines.length - 1 <= nOut + nErr) return; // the last element is an incomplete line (or '')
    const body = lines.slice(1, 1 + nOut + nErr);
    this.#buf = lines.slice(1 + nOut + nErr).join('\n');
    const join = (xs: string[]) => (xs.length ? `${xs.join('\n')}\n` : '');
    const p = this.#pending;
    this.#pending = undefined;
    if (!p) {
      this.#die(new ControlSessionError('an answer nobody asked for'));
      return;
    }
    p.resolve({ exitCode: Number(m[1]), stdout: join(body.slice(0, nOut)), stderr: join(body.slice(nOut)) });
  }
}

/** A session of the repository's helper as a local process: tests, and an Unbound run on the host. */
export function localSession(helper: string, env?: NodeJS.ProcessEnv): OpenSession {
  return async () => {
    const child = spawn('bash', [helper], { stdio: ['pipe', 'pipe', 'ignore'], ...(env ? { env } : {}) });
    const ended = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    return {
      stdin: child.stdin,
      stdout: child.stdout,
      ended,
      close: () => {
        child.stdin.destroy();
        if (child.exitCode === null) child.kill('SIGTERM');
      },
    };
  };
}
