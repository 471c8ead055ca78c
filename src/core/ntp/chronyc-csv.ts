// Parses what `chronyc -m -n -c tracking sources` prints: one CSV line of tracking (14 fields), then
// one line per source (10 fields). Pure; any line of another shape is skipped rather than guessed at.
//
// tracking: RefID(hex), ref address, stratum, ref time, correction (s; positive = clock slow), last
//   offset, RMS offset, frequency, residual, skew, root delay, root dispersion, update interval, leap
// sources:  mode (^ = #), state (* + - ? x ~), address, stratum, poll (log2 s), reach (octal), last rx
//   (s), adjusted offset, measured offset, error (s)
import { NTP_NOT_RUNNING, type NtpSource, type NtpStatus } from '../../schema/ntp.ts';

const MODES: Record<string, NtpSource['mode']> = { '^': 'server', '=': 'peer', '#': 'refclock' };
const STATES: Record<string, NtpSource['state']> = {
  '*': 'selected',
  '+': 'combined',
  '-': 'not_combined',
  '?': 'unreachable',
  x: 'falseticker',
  '~': 'variable',
};

const num = (s: string | undefined): number | null => {
  if (s === undefined || s.trim() === '' || !/^[-+]?[0-9.]+(e[-+]?[0-9]+)?$/i.test(s.trim())) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
};

/** chrony's "no sample yet" LastRx is 2^32-1; anything that large is not an age. */
const NO_SAMPLE = 4_294_967_295;

export function parseSourceLine(line: string): NtpSource | undefined {
  const f = line.split(',');
  if (f.length !== 10) return undefined;
  const [mode, state, address, stratum, poll, reach, lastRx, offset] = f;
  const strat = num(stratum);
  const pollLog2 = num(poll);
  if (!address || strat === null || pollLog2 === null || !/^[0-7]{1,3}$/.test(reach ?? '')) return undefined;
  const rx = num(lastRx);
  return {
    address,
    mode: MODES[mode ?? ''] ?? 'unknown',
    state: STATES[state ?? ''] ?? 'unknown',
    stratum: Math.trunc(strat),
    poll: 2 ** pollLog2,
    reach: Number.parseInt(reach!, 8) & 0xff,
    last_rx_seconds: rx === null || rx >= NO_SAMPLE ? null : rx,
    offset_seconds: num(offset),
  };
}

/** The status from chronyc's output; running only when a tracking line was read. */
export function parseChronycCsv(stdout: string): NtpStatus {
  let tracking: string[] | undefined;
  const sources: NtpSource[] = [];
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const fields = line.split(',');
    if (fields.length === 14 && !tracking && /^[0-9A-Fa-f]{8}$/.test(fields[0]!)) tracking = fields;
    else {
      const s = parseSourceLine(line);
      if (s) sources.push(s);
    }
  }
  if (!tracking) return { ...NTP_NOT_RUNNING, sources };
  const refId = tracking[0]!.toUpperCase();
  const leap = tracking[13]!;
  const correction = num(tracking[4]);
  const stratum = num(tracking[2]);
  return {
    running: true,
    // A reference ID of zero: chronyd has not selected anything yet.
    synchronised: refId !== '00000000' && leap !== 'Not synchronised',
    offset_seconds: correction === null ? null : correction === 0 ? 0 : -correction,
    stratum: stratum === null ? null : Math.trunc(stratum),
    reference: tracking[1] ?? null,
    sources,
  };
}
