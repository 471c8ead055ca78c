// When the schedule next fires: the hour is UTC, so a daylight-saving change never skips or doubles a
// day's backup.

/** The next start of `hour`:00 UTC strictly after `now`. */
export function nextSlot(now: number, hour: number): number {
  const d = new Date(now);
  const today = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), hour);
  return today > now ? today : today + 86_400_000;
}
