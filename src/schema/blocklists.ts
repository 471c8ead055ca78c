// DNS blocklists (ADR 0020): lists of names the cell answers NXDOMAIN for, to the peers that have
// blocking on. A list comes from a URL the owner names (fetched by cell-api, http or https only) or
// from a file they upload; either way its text is read by parseHostsList, a pure function, and only
// names that pass BLOCKED_NAME reach Unbound's policy zone: no quote, brace, space, newline or `..`
// can come through, so a parsed name can be written verbatim as one line of a zone file.
import { z } from 'zod';
import { rowIdParams, webUrl } from './fields.ts';

/** Per list, the body read from a URL or an upload: a large public list (1M names) is ~30 MB. */
export const BLOCKLIST_MAX_BYTES = 20 * 1024 * 1024;
/** Lists the owner may keep: each is fetched daily; the union of their names is what Unbound holds. */
export const MAX_BLOCKLISTS = 32;

/**
 * One label as the records allow it (a leading underscore, letters, digits, inner hyphens), at least
 * two labels, and short enough to sit under the policy zone's name (`<name>.blocklist.pic.` within
 * 255 octets).
 */
const LABEL = '_?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?';
const NAME = new RegExp(`^(?=.{1,239}$)${LABEL}(\\.${LABEL})+$`);
export const isBlockableName = (name: string): boolean => NAME.test(name);

/** Names hosts files carry for the machine itself: skipped, never blocked. */
const LOCAL_NAMES = new Set([
  'localhost',
  'localhost.localdomain',
  'local',
  'broadcasthost',
  'ip6-localhost',
  'ip6-loopback',
  'ip6-localnet',
  'ip6-mcastprefix',
  'ip6-allnodes',
  'ip6-allrouters',
  'ip6-allhosts',
  '0.0.0.0',
]);

const ADDRESS = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:.]*)$/i;

export interface ParsedBlocklist {
  /** Lower-case names, without a trailing dot, each once, in the order first seen. */
  domains: string[];
  /** Lines (or names on a hosts line) that are not a valid name: counted, never used. */
  invalid: number;
  /** localhost and its kin: skipped on purpose. */
  ignored: number;
}

/**
 * Reads a hosts-format list (`0.0.0.0 ads.example`, `127.0.0.1 a.example b.example`), bare names one
 * a line, and the `||name^` lines of adblock-style lists (the name only: the rest of that syntax is
 * not supported and counts as invalid). `#` starts a comment; blank lines are skipped.
 */
export function parseHostsList(text: string): ParsedBlocklist {
  const seen = new Set<string>();
  let invalid = 0;
  let ignored = 0;
  const take = (raw: string) => {
    const name = raw.toLowerCase().replace(/\.$/, '');
    if (LOCAL_NAMES.has(name)) ignored++;
    else if (!isBlockableName(name)) invalid++;
    else seen.add(name);
  };
  for (const rawLine of text.split('\n')) {
    const hash = rawLine.indexOf('#');
    const line = (hash === -1 ? rawLine : rawLine.slice(0, hash)).trim();
    if (!line) continue;
    if (line.startsWith('!') || (line.startsWith('[') && line.endsWith(']'))) continue; // adblock comments
    const words = line.split(/[ \t]+/);
    const first = words[0]!;
    if (words.length === 1) {
      const adblock = /^\|\|([^|^/]+)\^$/.exec(first);
      if (adblock) take(adblock[1]!);
      else if (ADDRESS.test(first)) invalid++;
      else take(first);
      continue;
    }
    if (!ADDRESS.test(first)) {
      invalid++;
      continue;
    }
    for (const w of words.slice(1)) take(w);
  }
  return { domains: [...seen], invalid, ignored };
}

/** A list's URL: http or https, a host, no user or password in it, no fragment; at most 2048 characters. */
export const blocklistUrl = webUrl({ max: 2048 });

export const createBlocklistSchema = z.object({ url: blocklistUrl }).strict();

/** The name an upload is listed under (its file name): shown, never used as a path. */
export const uploadQuery = z
  .object({
    name: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .regex(/^[A-Za-z0-9._() -]+$/, 'must be a file name: letters, digits, spaces, . _ - ( )'),
  })
  .strict();

export const updateBlocklistSchema = z.object({ enabled: z.boolean() }).strict();

export const blocklistIdParams = rowIdParams;

export const blocklistView = z.object({
  id: z.number().int(),
  kind: z.enum(['url', 'upload']),
  /** The URL, or the uploaded file's name. */
  source: z.string(),
  enabled: z.boolean(),
  domains: z.number().int(),
  invalid_lines: z.number().int(),
  /** When the URL was last fetched successfully (or the file uploaded). */
  last_fetched: z.string().nullable(),
  /** Why the last fetch failed (the names from the fetch before it are still used). */
  last_error: z.string().nullable(),
});
export type BlocklistView = z.infer<typeof blocklistView>;

/** The windows the blocked-query counts are read over (hourly buckets; kept BLOCKED_RETENTION_DAYS). */
export const BLOCKED_WINDOWS = { '24h': 24, '7d': 7 * 24, '30d': 30 * 24 } as const;
export type BlockedWindow = keyof typeof BLOCKED_WINDOWS;
/** How long the hourly per-peer counts are kept (the longest window). */
export const BLOCKED_RETENTION_DAYS = 30;
/** The top blocked names shown overall and per peer. */
export const BLOCKED_TOP = 10;
/** The name queries are counted under once the in-memory tap holds its most names (pic-dns-blocked). */
export const OTHER_NAMES = '-';

export const blocklistStatsQuery = z
  .object({
    window: z.enum(Object.keys(BLOCKED_WINDOWS) as [BlockedWindow, ...BlockedWindow[]]).default('24h'),
  })
  .strict();

const topNames = z.array(z.object({ name: z.string(), count: z.number().int() }));

export const blockedPeerView = z.object({
  /** The peer's name; null when no peer has this address any more. */
  peer: z.string().nullable(),
  /** Its VPN address (the client the counts are for). */
  address: z.string(),
  /** Its blocklists switch now; null when no peer has this address any more. */
  blocking: z.boolean().nullable(),
  /** Queries of this peer the blocklists answered NXDOMAIN in the window. */
  blocked: z.number().int(),
  /** The names it was refused most ("-": names past the counter's memory bound, ADR 0020). */
  top: topNames,
});
export type BlockedPeerView = z.infer<typeof blockedPeerView>;

export const blocklistStatsView = z.object({
  /** Names Unbound now holds (the union of the enabled lists). */
  blocked_names: z.number().int(),
  /**
   * Queries answered NXDOMAIN by the blocklist since cell-dns started (its RPZ counter, all clients);
   * null when cell-dns does not run.
   */
  blocked_queries: z.number().int().nullable(),
  /** Peers with blocking on. */
  peers_blocking: z.number().int(),
  /** The window the counts below cover, and where they start: the window's first hour, or the reset. */
  window: z.enum(Object.keys(BLOCKED_WINDOWS) as [BlockedWindow, ...BlockedWindow[]]),
  since: z.string(),
  /** Blocked queries of all peers in the window (per-peer counts, persisted hourly; ADR 0020). */
  total: z.number().int(),
  /** The names blocked most in the window, all peers together. */
  top: topNames,
  /** Every peer (blocked 0 when none), and any address counted in the window that no peer has now. */
  peers: z.array(blockedPeerView),
});
export type BlocklistStatsView = z.infer<typeof blocklistStatsView>;

/** One line of `pic-dns-blocked drain`: queries of one client for one name since the last drain. */
export interface BlockedCount {
  /** The client address as Unbound saw it (a peer's mapped source on the cell network). */
  client: string;
  /** A blocked name, or OTHER_NAMES. */
  name: string;
  count: number;
}

export interface BlockedDrain {
  counts: BlockedCount[];
  /** Queries the tap counted under OTHER_NAMES because its memory bound was reached. */
  dropped: number;
  /** Lines that did not read as a count (never expected: the tap writes them). */
  invalid: number;
}

const DRAIN_LINE = /^(\d{1,3}(?:\.\d{1,3}){3})\t([^\t]{1,253})\t(\d{1,12})$/;

/**
 * Reads what `pic-dns-blocked drain` prints (images/cell-dns/pic-dns-blocked): a header
 * `# pic-dns-blocked 1 <dropped>`, then `<client>\t<name>\t<count>` lines. A line whose client is not
 * an IPv4 address, whose name is neither a blockable name nor "-", or whose count is not a positive
 * integer is skipped and counted invalid; an output without the header is refused (undefined).
 */
export function parseBlockedDrain(text: string): BlockedDrain | undefined {
  const lines = text.split('\n');
  const head = /^# pic-dns-blocked 1 (\d{1,12})$/.exec(lines[0] ?? '');
  if (!head) return undefined;
  const counts: BlockedCount[] = [];
  let invalid = 0;
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const m = DRAIN_LINE.exec(line);
    const count = Number(m?.[3]);
    if (
      !m ||
      !isIP4(m[1]!) ||
      !(m[2] === OTHER_NAMES || isBlockableName(m[2]!)) ||
      !Number.isSafeInteger(count) ||
      count < 1
    ) {
      invalid++;
      continue;
    }
    counts.push({ client: m[1]!, name: m[2]!, count });
  }
  return { counts, dropped: Number(head[1]), invalid };
}

const isIP4 = (a: string) => a.split('.').every((p) => Number(p) <= 255 && String(Number(p)) === p);
