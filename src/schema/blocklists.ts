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

export const blocklistStatsView = z.object({
  /** Names Unbound now holds (the union of the enabled lists). */
  blocked_names: z.number().int(),
  /**
   * Queries answered NXDOMAIN by the blocklist since cell-dns started (its RPZ counter); null when
   * cell-dns does not run. Per peer: not counted (see ADR 0020).
   */
  blocked_queries: z.number().int().nullable(),
  /** Peers with blocking on / all peers. */
  peers_blocking: z.number().int(),
  peers: z.number().int(),
});
export type BlocklistStatsView = z.infer<typeof blocklistStatsView>;
