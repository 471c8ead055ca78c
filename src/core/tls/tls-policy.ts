// The TLS decisions, pure and unit-tested: which names a certificate covers, which challenge proves
// them, when a certificate is due for renewal, how long to wait after a failure, and what of an
// error may be shown.
import type { DomainMode } from '../../schema/config.ts';
import type { AcmeChallengeChoice } from '../../schema/tls.ts';
import type { AcmeChallengeType } from '../ports/acme.ts';

const DAY_MS = 86_400_000;
/** Renew when fewer than 30 days are left, or a third of the lifetime for short-lived certificates. */
export const RENEW_BEFORE_DAYS = 30;
/** After a failed order: 30 min, doubling, at most a day (Let's Encrypt counts failed validations). */
export const BACKOFF_BASE_MS = 30 * 60_000;
export const BACKOFF_MAX_MS = DAY_MS;

export const backoffMs = (failures: number) =>
  Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, Math.min(failures - 1, 20)), BACKOFF_MAX_MS);

export const isAcmeMode = (mode: DomainMode) => mode === 'pic_ngo' || mode === 'custom';

/** DNS-01 when asked, or on auto when the DDNS provider can publish TXT; HTTP-01 otherwise. */
export function challengeFor(choice: AcmeChallengeChoice, providerSupportsTxt: boolean): AcmeChallengeType {
  if (choice === 'auto') return providerSupportsTxt ? 'dns-01' : 'http-01';
  return choice;
}

/** A service name relative to the zone that an order may carry: one or more DNS labels, no wildcard. */
const RELATIVE_NAME = /^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/;

/**
 * The names an order covers. DNS-01: the domain and its wildcard, which covers every service name
 * under it. HTTP-01 cannot prove a wildcard: the domain and each installed service's names
 * (`mail`, `calendar`... relative to the zone), one by one, sorted, each once.
 */
export function namesFor(
  domain: string,
  challenge: AcmeChallengeType | 'local',
  serviceNames: readonly string[] = [],
): string[] {
  if (challenge !== 'http-01') return [domain, `*.${domain}`];
  const labels = [...new Set(serviceNames.map((n) => n.toLowerCase()))].filter((n) => RELATIVE_NAME.test(n));
  return [domain, ...labels.sort().map((n) => `${n}.${domain}`)];
}

/** When a certificate is due: 30 days before it ends, or a third of its lifetime when that is less. */
export function renewAt(notBefore: number, notAfter: number): number {
  const lifetime = Math.max(notAfter - notBefore, 0);
  return notAfter - Math.min(RENEW_BEFORE_DAYS * DAY_MS, lifetime / 3);
}

export const renewalDue = (notBefore: number, notAfter: number, now: number): boolean =>
  now >= renewAt(notBefore, notAfter);

export const covers = (have: string[], want: string[]) => want.every((n) => have.includes(n));

/**
 * When the tick orders, given the certificate held (undefined: none) and the names wanted: at once
 * when a wanted name is missing (a service installed), unless a failure is backing off; when the
 * certificate carries a name no longer wanted (a service removed), at the next attempt allowed
 * (at most hourly after a success, so a CA that adds names never makes a loop); else at renewal.
 */
export function nextOrderAt(o: {
  have: { names: string[]; notBefore: number; notAfter: number } | undefined;
  want: string[];
  now: number;
  failures: number;
  nextAttemptAt: number | null;
}): number {
  const wait = o.nextAttemptAt ?? 0;
  if (!o.have || !covers(o.have.names, o.want)) return o.failures > 0 ? Math.max(o.now, wait) : o.now;
  if (!covers(o.want, o.have.names)) return Math.max(o.now, wait);
  return Math.max(renewAt(o.have.notBefore, o.have.notAfter), wait);
}

/** One line, no control characters, no secret, at most 300 characters. */
export function cleanError(message: string, secrets: (string | undefined)[] = []): string {
  let out = message;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[secret]');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  out = out.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return out.length > 300 ? `${out.slice(0, 297)}...` : out || 'unknown error';
}
