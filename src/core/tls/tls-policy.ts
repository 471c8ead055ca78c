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

/** The domain and every name under it (a wildcard is DNS-01 only); HTTP-01 proves the bare domain. */
export const namesFor = (domain: string, challenge: AcmeChallengeType | 'local'): string[] =>
  challenge === 'http-01' ? [domain] : [domain, `*.${domain}`];

/** When a certificate is due: 30 days before it ends, or a third of its lifetime when that is less. */
export function renewAt(notBefore: number, notAfter: number): number {
  const lifetime = Math.max(notAfter - notBefore, 0);
  return notAfter - Math.min(RENEW_BEFORE_DAYS * DAY_MS, lifetime / 3);
}

export const renewalDue = (notBefore: number, notAfter: number, now: number): boolean =>
  now >= renewAt(notBefore, notAfter);

export const covers = (have: string[], want: string[]) => want.every((n) => have.includes(n));

/** One line, no control characters, no secret, at most 300 characters. */
export function cleanError(message: string, secrets: (string | undefined)[] = []): string {
  let out = message;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[secret]');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  out = out.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return out.length > 300 ? `${out.slice(0, 297)}...` : out || 'unknown error';
}
