// Lines a daemon wrote to its container's output, read back as the cell's log lines. Caddy writes
// JSON (its access log is filtered before it is written: no query strings, no headers; ADR 0018);
// Docker prefixes each line with its RFC 3339 timestamp. Pure: the text comes from the engine.
import type { LogLine } from '../ports/logs.ts';

const LEVELS = new Set(['debug', 'info', 'warn', 'error', 'fatal']);
/** A line longer than this is cut: one huge request line must not fill an answer. */
const MAX_LINE = 4096;

/** Docker's `2026-12-03T12:00:00.123456789Z <line>` (timestamps: true), or the bare line. */
function splitTimestamp(raw: string): { time: number | undefined; rest: string } {
  const m = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) (.*)$/.exec(raw);
  if (!m) return { time: undefined, rest: raw };
  const t = Date.parse(m[1]!);
  return { time: Number.isFinite(t) ? t : undefined, rest: m[2]! };
}

/** Caddy's JSON lines as log lines of `service`; anything else (a start-up message) keeps its text. */
export function parseDaemonLines(service: string, text: string): LogLine[] {
  const out: LogLine[] = [];
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue;
    const { time: dockerTime, rest } = splitTimestamp(raw.slice(0, MAX_LINE));
    let parsed: Record<string, unknown> | undefined;
    try {
      const v: unknown = JSON.parse(rest);
      if (v && typeof v === 'object' && !Array.isArray(v)) parsed = v as Record<string, unknown>;
    } catch {
      parsed = undefined;
    }
    if (!parsed) {
      out.push({ service, time: dockerTime ?? 0, level: 'info', msg: rest });
      continue;
    }
    const { level, ts, msg, ...fields } = parsed;
    const lvl = typeof level === 'string' && LEVELS.has(level) ? level : 'info';
    const time = typeof ts === 'number' ? Math.round(ts * 1000) : (dockerTime ?? 0);
    out.push({ ...fields, service, time, level: lvl, msg: typeof msg === 'string' ? msg : '' });
  }
  return out;
}
