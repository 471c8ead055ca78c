// Duck DNS: GET /update?domains=<name>&token=&ip=&verbose=true (ipv6= for an IPv6 address; txt= for
// a TXT record). The verbose reply is "OK\n<ipv4>\n<ipv6>\nUPDATED|NOCHANGE", or "KO" for a bad token
// or domain (Duck DNS does not say which).
import { isIP } from 'node:net';
import type { HttpReply, HttpRequest } from '../../ports/http-client.ts';
import {
  type DdnsProviderImpl,
  type ProviderContext,
  type PublishResult,
  trimSlash,
  unexpectedStatus,
} from '../provider.ts';

/** The name Duck DNS knows: the label before .duckdns.org. */
export const duckName = (hostname: string) => hostname.replace(/\.duckdns\.org$/, '');

function request(ctx: ProviderContext, params: Record<string, string>): HttpRequest {
  const q = new URLSearchParams({ domains: duckName(ctx.hostname), token: ctx.token, ...params });
  q.set('verbose', 'true');
  return {
    method: 'GET',
    url: `${trimSlash(ctx.baseUrl)}/update?${q}`,
    headers: { 'user-agent': ctx.userAgent },
  };
}

export const duckdnsUpdateRequest = (ctx: ProviderContext, ip: string) =>
  request(ctx, isIP(ip) === 6 ? { ipv6: ip } : { ip });

export const duckdnsTxtRequest = (ctx: ProviderContext, value: string) => request(ctx, { txt: value });

export const duckdnsClearTxtRequest = (ctx: ProviderContext) => request(ctx, { txt: '', clear: 'true' });

export function parseDuckdnsReply(reply: HttpReply): PublishResult {
  if (reply.status !== 200) return unexpectedStatus(reply, 'Duck DNS');
  const lines = reply.body.trim().split('\n');
  if (lines[0] === 'KO')
    return { kind: 'fatal', reason: 'badauth', message: 'Duck DNS refused the token or the domain (KO)' };
  if (lines[0] !== 'OK') return { kind: 'retry', message: 'Duck DNS: unexpected reply' };
  const last = lines.at(-1)?.trim();
  if (last === 'NOCHANGE') return { kind: 'unchanged', message: 'Duck DNS: no change' };
  return { kind: 'updated', message: 'Duck DNS: updated' };
}

export const duckdns: DdnsProviderImpl = {
  async setAddress(http, ctx, ip) {
    return parseDuckdnsReply(await http.send(duckdnsUpdateRequest(ctx, ip)));
  },
  // Duck DNS serves one TXT value for the whole domain, whatever the name asked for.
  async setTxt(http, ctx, _name, value) {
    return parseDuckdnsReply(await http.send(duckdnsTxtRequest(ctx, value)));
  },
  async removeTxt(http, ctx) {
    return parseDuckdnsReply(await http.send(duckdnsClearTxtRequest(ctx)));
  },
};
