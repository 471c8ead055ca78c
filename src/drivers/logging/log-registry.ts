// One pino logger per service, each writing JSON lines to its own rotating file under data/logs
// (and to stderr when asked). Levels change at run time through setLevel.
// Files buffer their lines (see rotating-file.ts): warn and above are written at once, everything is
// written before the files are searched, on close() and when the process exits.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { LogLine, LogsPort, RequestLine } from '../../core/ports/logs.ts';
import { LOG_SERVICES, type LogService } from '../../schema/config.ts';
import type { LogLevel } from '../../schema/fields.ts';
import { KEEP, RotatingFile } from './rotating-file.ts';

// Keys whose values pino replaces before a line is written: a secret must never reach a log.
const REDACT = [
  'password',
  'admin_password',
  'current_password',
  'new_password',
  'token',
  'passphrase',
  'private_key',
  'preshared_key',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
];

export type { LogLine };

const LEVEL_NAMES: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

export class LogRegistry implements LogsPort {
  readonly #dir: string;
  readonly #files = new Map<LogService, RotatingFile>();
  readonly #loggers = new Map<LogService, Logger>();
  /** Same destination and level, no redaction: only for RequestLine's typed fields. */
  readonly #requestLoggers = new Map<LogService, Logger>();
  /** The file a service's request lines go to when it is the only destination (see request()). */
  readonly #requestFiles = new Map<LogService, RotatingFile>();
  readonly #echo: boolean;
  /** Buffered lines reach their files when the process exits, however it exits short of SIGKILL. */
  readonly #onExit = () => this.flush();

  constructor(
    dir: string,
    levels: Partial<Record<LogService, LogLevel>>,
    opts: { echo?: boolean; files?: boolean } = {},
  ) {
    this.#dir = dir;
    this.#echo = opts.echo ?? false;
    process.on('exit', this.#onExit);
    for (const service of LOG_SERVICES) {
      const streams: pino.StreamEntry[] = [];
      // Short-lived CLI commands run beside a live `pic serve`; two processes rotating the same
      // file would lose lines, so they log to stderr only (files: false).
      if (opts.files !== false) {
        const file = new RotatingFile(join(dir, `${service}.log`));
        this.#files.set(service, file);
        streams.push({ stream: { write: (line: string) => writeLine(file, line) }, level: 'trace' });
      }
      if (this.#echo) streams.push({ stream: process.stderr, level: 'trace' });
      // multistream costs a few % per line: only when there are two destinations.
      const destination = streams.length === 1 ? streams[0]!.stream : pino.multistream(streams);
      const level = levels[service] ?? 'info';
      const logger = pino(
        { level, base: { service }, redact: { paths: REDACT, censor: '[redacted]' } },
        destination,
      );
      this.#loggers.set(service, logger);
      this.#requestLoggers.set(service, pino({ level, base: { service } }, destination));
      const file = this.#files.get(service);
      if (file && !this.#echo) this.#requestFiles.set(service, file);
    }
  }

  get(service: LogService): Logger {
    return this.#loggers.get(service)!;
  }

  request(service: LogService, line: RequestLine): void {
    const logger = this.#requestLoggers.get(service)!;
    const file = this.#requestFiles.get(service);
    if (!file) return void logger.info(line, 'request');
    // The line pino would write (same keys, same order), built in one JSON.stringify: it runs on every
    // API request, and pino's generic serialiser cost ~3 % of the API's CPU. Info is never urgent.
    if (logger.levelVal > INFO) return;
    file.write(
      `${JSON.stringify({
        level: INFO,
        time: Date.now(),
        service,
        method: line.method,
        path: line.path,
        status: line.status,
        ms: line.ms,
        source: line.source,
        msg: 'request',
      })}\n`,
    );
  }

  setLevel(service: LogService, level: LogLevel): void {
    this.get(service).level = level;
    this.#requestLoggers.get(service)!.level = level;
  }

  levels(): Record<LogService, string> {
    return Object.fromEntries(LOG_SERVICES.map((s) => [s, this.get(s).level])) as Record<LogService, string>;
  }

  /** Writes every buffered line to its file now. */
  flush(): void {
    for (const f of this.#files.values()) f.flush();
  }

  /** Newest first, across the live file and its rotations. */
  search(opts: { service?: LogService; q?: string; level?: LogLevel; limit: number }): LogLine[] {
    this.flush();
    const services = opts.service ? [opts.service] : [...LOG_SERVICES];
    const minLevel = opts.level ? (pino.levels.values[opts.level] ?? 0) : 0;
    const needle = opts.q?.toLowerCase();
    const out: LogLine[] = [];
    // Files hold a service's lines oldest to newest, .1 older than the live file and so on: once a
    // service has `limit` matches, nothing older of that service can be in the newest `limit` overall.
    for (const service of services) {
      const base = join(this.#dir, `${service}.log`);
      let found = 0;
      for (const path of [base, ...Array.from({ length: KEEP }, (_, i) => `${base}.${i + 1}`)]) {
        if (found >= opts.limit) break;
        if (!existsSync(path)) continue;
        const lines = readFileSync(path, 'utf8').split('\n');
        for (let i = lines.length - 1; i >= 0 && found < opts.limit; i--) {
          const raw = lines[i];
          if (!raw) continue;
          if (needle && !raw.toLowerCase().includes(needle)) continue;
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(raw);
          } catch {
            continue;
          }
          const level = Number(parsed.level);
          if (level < minLevel) continue;
          out.push({
            ...parsed,
            service,
            time: Number(parsed.time),
            level: LEVEL_NAMES[level] ?? String(level),
            msg: String(parsed.msg ?? ''),
          });
          found++;
        }
      }
    }
    return out.sort((a, b) => b.time - a.time).slice(0, opts.limit);
  }

  close(): void {
    process.off('exit', this.#onExit);
    for (const f of this.#files.values()) f.close();
  }
}

const INFO = 30;

/** pino starts every line with its numeric level: `{"level":40,` is warn, 50 error, 60 fatal. */
const URGENT = /^\{"level":[4-6]\d,/;

/** Buffers the line; a warning or an error is written at once (the lines an owner looks for after a crash). */
function writeLine(file: RotatingFile, line: string): void {
  file.write(line);
  if (URGENT.test(line)) file.flush();
}
