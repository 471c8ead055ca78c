// One interface for every DDNS provider. Each provider is pure request builders and reply parsers
// (unit-tested) composed into setAddress/setTxt over the HttpClient port.
import type { HttpClient, HttpReply } from '../ports/http-client.ts';

export interface ProviderContext {
  hostname: string;
  token: string;
  /** The base URL (no trailing slash): the owner's api_url or the provider's default. */
  baseUrl: string;
  zoneId: string | null;
  /** A record id found earlier (Cloudflare), reused to skip the lookup. */
  recordId: string | null;
  userAgent: string;
}

export type FatalReason = 'badauth' | 'nohost' | 'donator' | 'abuse' | 'badagent' | 'rejected';

export type PublishResult =
  | { kind: 'updated'; message: string; recordId?: string }
  | { kind: 'unchanged'; message: string; recordId?: string }
  /** Try again later; minDelayMs when the provider asks for a longer pause (noip 911, Retry-After). */
  | { kind: 'retry'; message: string; minDelayMs?: number }
  /** Retrying cannot help (credentials, host, account): stop until the settings change. */
  | { kind: 'fatal'; reason: FatalReason; message: string };

export interface DdnsProviderImpl {
  /** Publishes ip (IPv4: an A record, IPv6: AAAA). */
  setAddress(http: HttpClient, ctx: ProviderContext, ip: string): Promise<PublishResult>;
  /** Publishes a TXT record (ACME DNS-01); absent when the provider has no way to. */
  setTxt?(http: HttpClient, ctx: ProviderContext, name: string, value: string): Promise<PublishResult>;
  /** Removes the TXT value setTxt published (after the CA has read it); present with setTxt. */
  removeTxt?(http: HttpClient, ctx: ProviderContext, name: string, value: string): Promise<PublishResult>;
}

export const trimSlash = (url: string) => url.replace(/\/+$/, '');

/** An HTTP status the provider did not document: 429 and 5xx are worth a retry, the rest are not. */
export function unexpectedStatus(reply: HttpReply, who: string): PublishResult {
  if (reply.status === 429 || reply.status >= 500)
    return { kind: 'retry', message: `${who} answered HTTP ${reply.status}`, ...retryAfter(reply) };
  return { kind: 'fatal', reason: 'rejected', message: `${who} answered HTTP ${reply.status}` };
}

/** Retry-After in seconds (the HTTP-date form is rare from these APIs and is ignored). */
export function retryAfter(reply: HttpReply): { minDelayMs?: number } {
  const s = Number(reply.retryAfter);
  return reply.retryAfter && Number.isFinite(s) && s > 0 ? { minDelayMs: Math.min(s, 86_400) * 1000 } : {};
}

/** The first line of a text reply, cut short and with control characters removed. */
export const firstLine = (body: string) =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  (body.trim().split('\n')[0] ?? '').replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 200);
