// The cell's structured logs: one pino logger per service, levels changeable at run time, and a search
// over what was written. The logging driver implements it; the API and core only see this port.
import type { Logger } from 'pino';
import type { LogService } from '../../schema/config.ts';
import type { LogLevel } from '../../schema/fields.ts';

export interface LogLine {
  service: string;
  time: number;
  level: string;
  msg: string;
  [key: string]: unknown;
}

/** The line every API request writes: typed fields only, none of which can hold a secret. */
export interface RequestLine {
  method: string;
  /** The route pattern when one matched, else the normalised path (see app.ts). */
  path: string;
  status: number;
  ms: number;
  source: string;
}

export interface LogsPort {
  get(service: LogService): Logger;
  /**
   * Writes a request line at info level. Its fields are typed and safe, so it skips the redaction
   * every other line goes through (a third of a line's cost, on the hottest path).
   */
  request(service: LogService, line: RequestLine): void;
  setLevel(service: LogService, level: LogLevel): void;
  levels(): Record<LogService, string>;
  /** Writes buffered lines now (they are otherwise written within ~100 ms). */
  flush(): void;
  /** Newest first. */
  search(opts: { service?: LogService; q?: string; level?: LogLevel; limit: number }): LogLine[];
}
