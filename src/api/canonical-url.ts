// One reading of the request line for the router and every policy hook. Fastify hands the raw URL
// to find-my-way, which strips an absolute form's scheme and host and decodes percent escapes once,
// while the policy hooks read the same string differently: a request line such as
// `GET http://evil.example/api/config` was routed to the API while the setup gate, Host, Origin and
// CSRF checks and the audit saw `/http:/evil.example/...`. So the URL is made canonical once, before
// routing (Fastify's rewriteUrl), and what has no single reading is refused with 400.

import { boundedMemo } from '../core/bounded-memo.ts';

export type CanonicalUrl = { ok: true; url: string } | { ok: false; reason: string };

/** Percent escapes whose decoded form changes how a path splits or resolves. */
const AMBIGUOUS_ESCAPE = /%(?:2f|5c|00|25|3b)/i;
const ENCODED_DOT = /%2e/i;

/**
 * Origin-form only (`/path?query`). Refused: absolute and authority forms (`http://h/p`, `h:443`),
 * `*`, a fragment (`#`), backslashes, NUL and control characters, encoded `/` `\` `%` `;` NUL, `;` path parameters,
 * and dot segments spelled with escapes. Accepted and rewritten: repeated slashes collapse and plain
 * `.`/`..` segments resolve (never above the root). The query string is kept as sent.
 */
export const canonicalUrl: (raw: string) => CanonicalUrl = boundedMemo((raw) =>
  Object.freeze(readCanonical(raw)),
);

function readCanonical(raw: string): CanonicalUrl {
  if (!raw.startsWith('/')) return { ok: false, reason: 'only origin-form request targets are accepted' };
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = q < 0 ? '' : raw.slice(q);
  if (path.includes('\\')) return { ok: false, reason: 'backslash in the path' };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(path)) return { ok: false, reason: 'control character in the path' };
  if (path.includes(';')) return { ok: false, reason: 'path parameters (;) are not accepted' };
  // A browser never sends a fragment; the router would cut it where the policy hooks would not.
  if (raw.includes('#')) return { ok: false, reason: 'a fragment (#) is not part of a request target' };
  if (AMBIGUOUS_ESCAPE.test(path)) return { ok: false, reason: 'encoded separator in the path' };
  const segments: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      segments.pop();
      continue;
    }
    if (ENCODED_DOT.test(seg) && /^(?:\.|%2e){1,2}$/i.test(seg))
      return { ok: false, reason: 'encoded dot segment in the path' };
    segments.push(seg);
  }
  const trailing = path.length > 1 && path.endsWith('/') && segments.length > 0 ? '/' : '';
  return { ok: true, url: `/${segments.join('/')}${trailing}${query}` };
}
