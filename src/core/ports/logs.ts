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

export interface LogsPort {
  get(service: LogService): Logger;
  setLevel(service: LogService, level: LogLevel): void;
  levels(): Record<LogService, string>;
  /** Writes buffered lines now (they are otherwise written within ~100 ms). */
  flush(): void;
  /** Newest first. */
  search(opts: { service?: LogService; q?: string; level?: LogLevel; limit: number }): LogLine[];
}
