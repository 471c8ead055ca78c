// GET /api/ntp/status: what chronyd in cell-ntp says about its clock and its sources, read with
// `chronyc -c` (CSV). Offsets follow one sign everywhere: positive = this clock is ahead.
import { z } from 'zod';

export const NTP_SOURCE_STATES = [
  'selected',
  'combined',
  'not_combined',
  'unreachable',
  'falseticker',
  'variable',
  'unknown',
] as const;

export const ntpSource = z.object({
  /** The source's address (chronyc -n: never a name lookup). */
  address: z.string(),
  mode: z.enum(['server', 'peer', 'refclock', 'unknown']),
  /** chrony's selection state (`*` selected, `+` combined, `-` not combined, `?` unreachable, `x`, `~`). */
  state: z.enum(NTP_SOURCE_STATES),
  stratum: z.number().int(),
  /** Polling interval in seconds (chrony reports its log2). */
  poll: z.number(),
  /** The reachability register of the last 8 polls (0–255; chronyc prints it in octal, 377 = all). */
  reach: z.number().int().min(0).max(255),
  /** Seconds since the last sample; null when there was none. */
  last_rx_seconds: z.number().nullable(),
  /** Offset of the last sample, adjusted for slews since (positive: the local clock is ahead). */
  offset_seconds: z.number().nullable(),
});
export type NtpSource = z.infer<typeof ntpSource>;

export const ntpStatus = z.object({
  /** chronyd answered (false: the data plane is down, or `pic serve` runs without Docker). */
  running: z.boolean(),
  /** chronyd has a reference (an upstream or its own local clock) and a leap status other than "Not synchronised". */
  synchronised: z.boolean(),
  /** This clock minus NTP time (positive: fast); null when chronyd did not answer. */
  offset_seconds: z.number().nullable(),
  stratum: z.number().int().nullable(),
  /** The reference's address or name as chronyc -n prints it ('' for the local clock). */
  reference: z.string().nullable(),
  sources: z.array(ntpSource),
});
export type NtpStatus = z.infer<typeof ntpStatus>;

export const NTP_NOT_RUNNING: NtpStatus = {
  running: false,
  synchronised: false,
  offset_seconds: null,
  stratum: null,
  reference: null,
  sources: [],
};
