// Pure request-policy helpers, unit-tested on their own: path normalisation for the setup gate,
// the Host allow-list against DNS rebinding, cookies, Origin checks.

import { isIP } from 'node:net';
import { boundedMemo } from '../core/bounded-memo.ts';
import { SECURITY_HEADERS } from '../schema/security-headers.ts';

/**
 * The path a request could reach after any layer decodes or normalises it: percent-decoded until it
 * stops changing (so %252e is caught), lowercased, `;params` cut, slashes collapsed, dot segments
 * resolved. Used only for decisions (the 428 gate, CSRF scope), never for routing.
 */
export function normalizePath(rawUrl: string): string {
  return resolveDots(pathSegments(rawUrl));
}

/**
 * normalizePath and touchesApi of one URL, its segments read once: both run on every request, and
 * reading the path three times was a few % of the API's time under load.
 */
/** The normalised path of a request target and whether it reaches the API (memoised: every request). */
export const readPath: (rawUrl: string) => Readonly<{ path: string; api: boolean }> = boundedMemo((rawUrl) =>
  Object.freeze(readPathOnce(rawUrl)),
);

function readPathOnce(rawUrl: string): { path: string; api: boolean } {
  const segs = pathSegments(rawUrl);
  const path = resolveDots(segs);
  return { path, api: isApiPath(path) || segs[0] === 'api' };
}

function resolveDots(segs: readonly string[]): string {
  const segments: string[] = [];
  for (const seg of segs) {
    if (seg === '.') continue;
    if (seg === '..') segments.pop();
    else segments.push(seg);
  }
  return `/${segments.join('/')}`;
}

/** Percent-decoded until stable, lowercased, `\\` as `/`, `;params` cut, empty segments dropped. */
function pathSegments(rawUrl: string): string[] {
  const q = rawUrl.indexOf('?');
  let path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  // Without a `%` there is nothing to decode (the common case: skip five decodeURIComponent calls).
  for (let i = 0; i < 5 && path.includes('%'); i++) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      decoded = path.replace(/%(?![0-9a-f]{2})/gi, '');
    }
    if (decoded === path) break;
    path = decoded;
  }
  path = path.toLowerCase().replace(/\\/g, '/');
  return path
    .split('/')
    .map((raw) => raw.split(';')[0]!.trim())
    .filter((seg) => seg !== '');
}

/**
 * Whether a request could reach the API under any reading of its path: after dot segments are
 * resolved (`/x/../api/peers`) or before (`/api/%2e%2e/peers`, which a router or proxy may pass on
 * as it is). Such a request is held to the API's rules (setup gate, Host check, CSRF, audit).
 */
export function touchesApi(rawUrl: string): boolean {
  return readPath(rawUrl).api;
}

export const isApiPath = (p: string) => p === '/api' || p.startsWith('/api/');

/** API paths reachable before setup completes (everything else under /api answers 428). */
export function allowedBeforeSetup(normalized: string): boolean {
  return normalized === '/health' || normalized.startsWith('/api/setup/');
}

/**
 * Requests that may come without the session's CSRF token: those that exist before a session does
 * (login, setup) and logout. The spec exempts all of /api/auth/*, but a password change and the
 * two-factor routes act on a session, so they need its token like every other change.
 */
export function csrfExempt(normalized: string): boolean {
  return (
    normalized === '/api/auth/login' ||
    normalized === '/api/auth/logout' ||
    normalized.startsWith('/api/setup/')
  );
}

export function hostName(hostHeader: string | undefined): string | undefined {
  if (!hostHeader || hostHeader.length > 255) return undefined;
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(1, end) : undefined;
  }
  const colon = h.lastIndexOf(':');
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

/**
 * A browser on the owner's LAN reaches the cell by IP, by `localhost`, or by the cell's own names.
 * Any other name means the page was loaded from somewhere else (DNS rebinding): refuse it.
 */
export function hostAllowed(
  hostHeader: string | undefined,
  cellDomain: string,
  extra: readonly string[] = [],
): boolean {
  const name = hostName(hostHeader);
  if (!name) return false;
  if (isIP(name)) return true;
  if (name === 'localhost') return true;
  if (name === cellDomain || name.endsWith(`.${cellDomain}`)) return true;
  return extra.includes(name);
}

/** Origin must name the same host as the request; `null` and foreign origins are refused. */
export function originAllowed(origin: string | undefined, hostHeader: string | undefined): boolean {
  if (origin === undefined) return true;
  if (origin === 'null' || !hostHeader) return false;
  try {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
    // Parse the Host the same way so default ports compare equal (`localhost:80` and `http://localhost`).
    const h = new URL(`${u.protocol}//${hostHeader}`);
    return h.host === u.host && h.pathname === '/' && !h.username;
  } catch {
    return false;
  }
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export const SESSION_COOKIE_HTTP = 'pic_session';
export const SESSION_COOKIE_HTTPS = '__Host-pic_session';

export function sessionCookie(value: string, secure: boolean, maxAgeSeconds: number): string {
  const name = secure ? SESSION_COOKIE_HTTPS : SESSION_COOKIE_HTTP;
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

export function clearSessionCookies(): string[] {
  return [
    `${SESSION_COOKIE_HTTP}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`,
    `${SESSION_COOKIE_HTTPS}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure`,
  ];
}

/** What every answer on an API path carries: the security headers, and never cached. */
export const API_HEADERS: Record<string, string> = { ...SECURITY_HEADERS, 'cache-control': 'no-store' };
