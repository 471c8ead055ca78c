// FreeDNS (afraid.org), the token update URL: GET /dynamic/update.php?<token>&address=<ip>. The reply
// is one line of text: "Updated ...", "ERROR: Address <ip> has not changed.", "ERROR: Unable to locate
// this record ..." (the token matches no record), "ERROR: Invalid update URL ...". No TXT records.
import type { HttpReply, HttpRequest } from '../../ports/http-client.ts';
import {
  type DdnsProviderImpl,
  firstLine,
  type ProviderContext,
  type PublishResult,
  trimSlash,
  unexpectedStatus,
} from '../provider.ts';

export function freednsUpdateRequest(ctx: ProviderContext, ip: string): HttpRequest {
  return {
    method: 'GET',
    url: `${trimSlash(ctx.baseUrl)}/dynamic/update.php?${encodeURIComponent(ctx.token)}&${new URLSearchParams({ address: ip })}`,
    headers: { 'user-agent': ctx.userAgent },
  };
}

export function parseFreednsReply(reply: HttpReply): PublishResult {
  if (reply.status !== 200) return unexpectedStatus(reply, 'FreeDNS');
  const line = firstLine(reply.body);
  if (/^Updated\b/i.test(line)) return { kind: 'updated', message: 'FreeDNS: updated' };
  if (/has not changed|No IP change detected/i.test(line))
    return { kind: 'unchanged', message: 'FreeDNS: no change' };
  if (/Unable to locate this record/i.test(line))
    return { kind: 'fatal', reason: 'nohost', message: 'FreeDNS: the token matches no record' };
  if (/Invalid update URL/i.test(line))
    return { kind: 'fatal', reason: 'badauth', message: 'FreeDNS: the update token is not valid' };
  // Echo only a line that cannot carry the token back (FreeDNS does not, but the check is cheap).
  return { kind: 'retry', message: 'FreeDNS: unexpected reply' };
}

export const freedns: DdnsProviderImpl = {
  async setAddress(http, ctx, ip) {
    return parseFreednsReply(await http.send(freednsUpdateRequest(ctx, ip)));
  },
};
