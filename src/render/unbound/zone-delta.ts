// What changes a running Unbound from one cell zone to the next through unbound-control, without a
// reload: `local_datas_remove` of the owner names that lose a record, then `local_datas` of every
// record new at a name plus the records kept at a name just emptied (unbound-control removes a whole
// name, never one record of it), then `view_local_zone[_remove]` for changed grants. Names that only
// gain records are never removed, and no other name is touched, so queries for them never fail.
//
// A new zone (a domain-mode switch: `home.cell` → `home.example.org`) is live too: `local_zone` of
// the new zone (transparent while it fills, then static), the views' denials in it, its records, then
// `local_zone_remove` of the old zone (its records go with it) and the old denials: the new names
// answer before the old ones stop, and a denied service never answers in either zone. A reload
// would stop every answer while Unbound reads its config (~1 s with a large blocklist) and drop the
// forwarded queries in flight.
//
// undefined: the change cannot be made live (one zone inside the other, whose records would land in
// the wrong zone; the policy zones changed; or a view the loaded config lacks, since
// access-control-view cannot be added at run time): the caller writes the file and reloads.
import { type CellZoneInput, ownerName, rrLine, viewName } from './cell-zone.ts';

export interface ZoneDelta {
  /** A domain switch: the zone added first (`local_zone <add>`) and the one removed last. */
  zone?: { add: string; remove: string };
  /** Absolute owner names emptied first (`local_datas_remove`, one per line). */
  removeNames: string[];
  /** Zone-file lines added after (`local_datas`). */
  addData: string[];
  viewRemove: Array<{ view: string; name: string }>;
  viewAdd: Array<{ view: string; name: string }>;
}

const ownerOf = (line: string) => line.slice(0, line.indexOf(' '));

function byOwner(lines: Iterable<string>): Map<string, Set<string>> {
  const m = new Map<string, Set<string>>();
  for (const l of lines) {
    const o = ownerOf(l);
    const s = m.get(o) ?? new Set<string>();
    s.add(l);
    m.set(o, s);
  }
  return m;
}

const within = (name: string, zone: string) => name === zone || name.endsWith(`.${zone}`);

export function zoneDelta(prev: CellZoneInput, next: CellZoneInput): ZoneDelta | undefined {
  const switching = prev.zone !== next.zone;
  if (switching && (within(prev.zone, next.zone) || within(next.zone, prev.zone))) return undefined;
  // The policy zones' clauses and tags are loaded with the config (their content is not: see the driver).
  if (JSON.stringify(prev.policy ?? null) !== JSON.stringify(next.policy ?? null)) return undefined;
  // A view is its client address and its name: both are fixed once loaded.
  const key = (v: CellZoneInput['views'][number]) => `${v.address} ${v.label ?? v.address}`;
  const prevViews = new Map(prev.views.map((v) => [key(v), v]));
  const nextViews = new Map(next.views.map((v) => [key(v), v]));
  if (prevViews.size !== nextViews.size || [...nextViews.keys()].some((a) => !prevViews.has(a)))
    return undefined;

  if (switching) {
    const denials = (z: CellZoneInput) =>
      z.views.flatMap((v) =>
        [...new Set(v.deny)]
          .sort()
          .map((d) => ({ view: viewName(v.label ?? v.address), name: ownerName(z.zone, d) })),
      );
    return {
      zone: { add: `${next.zone}.`, remove: `${prev.zone}.` },
      removeNames: [],
      addData: [...new Set(next.records.map((r) => rrLine(next.zone, r)))].sort(),
      viewRemove: denials(prev),
      viewAdd: denials(next),
    };
  }

  const before = byOwner(prev.records.map((r) => rrLine(prev.zone, r)));
  const after = byOwner(next.records.map((r) => rrLine(next.zone, r)));
  const removeNames: string[] = [];
  const addData: string[] = [];
  for (const [owner, old] of before) {
    const now = after.get(owner) ?? new Set<string>();
    if ([...old].some((l) => !now.has(l))) {
      removeNames.push(owner);
      addData.push(...now);
    } else for (const l of now) if (!old.has(l)) addData.push(l);
  }
  for (const [owner, now] of after) if (!before.has(owner)) addData.push(...now);

  const viewRemove: ZoneDelta['viewRemove'] = [];
  const viewAdd: ZoneDelta['viewAdd'] = [];
  for (const [k, v] of nextViews) {
    const was = new Set(prevViews.get(k)!.deny);
    const is = new Set(v.deny);
    const view = viewName(v.label ?? v.address);
    for (const d of was) if (!is.has(d)) viewRemove.push({ view, name: ownerName(next.zone, d) });
    for (const d of is) if (!was.has(d)) viewAdd.push({ view, name: ownerName(next.zone, d) });
  }
  return { removeNames: removeNames.sort(), addData: addData.sort(), viewRemove, viewAdd };
}

export function isEmptyDelta(d: ZoneDelta): boolean {
  return !d.zone && !d.removeNames.length && !d.addData.length && !d.viewRemove.length && !d.viewAdd.length;
}
