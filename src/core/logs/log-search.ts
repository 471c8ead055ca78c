// GET /api/logs: the cell's own log files (every service cell-api logs for) and, for daemons that log
// to their container's output, what the container wrote (Caddy's access and error lines), merged
// newest first. Without Docker (`pic serve`) only the files are searched.
import { LOG_SERVICES, type LogService } from '../../schema/config.ts';
import type { LogLevel } from '../../schema/fields.ts';
import type { LogLine, LogsPort } from '../ports/logs.ts';
import { parseDaemonLines } from './daemon-log-lines.ts';

const RANK: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
/** How many of a container's last lines are read per search. */
export const DAEMON_TAIL = 2000;

export interface LogQuery {
  service?: LogService | undefined;
  q?: string | undefined;
  level?: LogLevel | undefined;
  limit: number;
}

export interface LogSearchDeps {
  files: LogsPort;
  /** The output of the service's container (its last `tail` lines), or undefined when it has none. */
  daemonOutput?: (service: LogService, tail: number) => Promise<string | undefined>;
}

export class LogSearch {
  readonly #d: LogSearchDeps;
  constructor(deps: LogSearchDeps) {
    this.#d = deps;
  }

  async search(query: LogQuery): Promise<LogLine[]> {
    const lines = this.#d.files.search(query);
    const services = query.service ? [query.service] : [...LOG_SERVICES];
    const needle = query.q?.toLowerCase();
    const min = query.level ? (RANK[query.level] ?? 0) : 0;
    for (const service of services) {
      // A daemon that is down or unknown to the engine has nothing to add: the files still answer.
      const text = await this.#d.daemonOutput?.(service, DAEMON_TAIL).catch(() => undefined);
      if (!text) continue;
      for (const l of parseDaemonLines(service, text)) {
        if ((RANK[l.level] ?? 0) < min) continue;
        if (needle && !JSON.stringify(l).toLowerCase().includes(needle)) continue;
        lines.push(l);
      }
    }
    return lines.sort((a, b) => b.time - a.time).slice(0, query.limit);
  }
}
