// Which scheduled backups to delete (pure). Kept: the newest backup of each of the newest
// `daily` days that have a backup, the newest of each of the newest `weekly` ISO weeks that have
// one, and always the newest of all. Days and weeks are UTC, like the schedule's hour. The caller
// passes only backups the schedule made: a manual backup or a stranger's file is never a candidate.
// A backup whose date cannot be read is kept (never delete what cannot be placed in time).

export interface Dated {
  id: string;
  /** ISO 8601. */
  created_at: string;
}

export interface KeepPolicy {
  daily: number;
  weekly: number;
}

const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);

/** The ISO 8601 week of a UTC instant, as `YYYY-Www` (weeks start on Monday; week 1 holds January 4). */
export function isoWeek(t: number): string {
  const d = new Date(t);
  const day = (d.getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  // The Thursday of this week decides the year the week belongs to.
  const thursday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day + 3);
  const year = new Date(thursday).getUTCFullYear();
  const week = Math.floor((thursday - Date.UTC(year, 0, 1)) / (7 * 86_400_000)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** The ids to delete, oldest first. */
export function backupsToDelete(items: readonly Dated[], keep: KeepPolicy): string[] {
  const dated = items
    .map((b) => ({ id: b.id, t: Date.parse(b.created_at) }))
    .filter((b) => Number.isFinite(b.t))
    // Newest first; the id breaks ties so the answer does not depend on the input's order.
    .sort((a, b) => b.t - a.t || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const kept = new Set<string>();
  if (dated[0]) kept.add(dated[0].id);
  const keepNewestPer = (bucket: (t: number) => string, count: number) => {
    const seen = new Set<string>();
    for (const b of dated) {
      const key = bucket(b.t);
      if (seen.has(key)) continue;
      if (seen.size >= count) break;
      seen.add(key);
      kept.add(b.id);
    }
  };
  keepNewestPer(dayOf, keep.daily);
  keepNewestPer(isoWeek, keep.weekly);
  return dated
    .filter((b) => !kept.has(b.id))
    .reverse()
    .map((b) => b.id);
}
