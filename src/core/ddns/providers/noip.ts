// No-IP, the dyndns2 protocol: GET /nic/update?hostname=&myip= with Basic auth (the token is
// "username:password") and a User-Agent naming the client, as No-IP requires. Replies are one word,
// maybe followed by the address: good, nochg, nohost, badauth, badagent, !donator, abuse, 911.
// No TXT records through this protocol.
import { isIP } from 'node:net';
import type { HttpReply, HttpRequest } from '../../ports/http-client.ts';
import {
  type DdnsProviderImpl,
  firstLine,
  type ProviderContext,
  type PublishResult,
  trimSlash,
} from '../provider.ts';

/** No-IP asks for at least 30 minutes after a 911 (their side is in trouble). */
export const NOIP_911_DELAY_MS = 30 * 60_000;

export function noipUpdateRequest(ctx: ProviderContext, ip: string): HttpRequest {
  const q = new URLSearchParams({ hostname: ctx.hostname });
  q.set(isIP(ip) === 6 ? 'myipv6' : 'myip', ip);
  return {
    method: 'GET',
    url: `${trimSlash(ctx.baseUrl)}/nic/update?${q}`,
    headers: {
      authorization: `Basic ${Buffer.from(ctx.token, 'utf8').toString('base64')}`,
      'user-agent': ctx.userAgent,
    },
  };
}

export function parseDyndns2Reply(reply: HttpReply, who = 'No-IP'): PublishResult {
  const line = firstLine(reply.body);
  const [word = ''] = line.split(' ');
  switch (word) {
    case 'good':
      return { kind: 'updated', message: `${who}: ${line}` };
    case 'nochg':
      return { kind: 'unchanged', message: `${who}: ${line}` };
    case 'nohost':
      return {
        kind: 'fatal',
        reason: 'nohost',
        message: `${who}: no such host name in this account (nohost)`,
      };
    case 'badauth':
      return { kind: 'fatal', reason: 'badauth', message: `${who}: username or password refused (badauth)` };
    case 'badagent':
      return { kind: 'fatal', reason: 'badagent', message: `${who}: this client is blocked (badagent)` };
    case '!donator':
      return {
        kind: 'fatal',
        reason: 'donator',
        message: `${who}: the request needs a paid account (!donator)`,
      };
    case 'abuse':
      return {
        kind: 'fatal',
        reason: 'abuse',
        message: `${who}: the host name is blocked for abuse (abuse)`,
      };
    case '911':
      return {
        kind: 'retry',
        message: `${who}: server-side problem (911), waiting at least 30 minutes`,
        minDelayMs: NOIP_911_DELAY_MS,
      };
  }
  if (reply.status === 401)
    return { kind: 'fatal', reason: 'badauth', message: `${who}: username or password refused (HTTP 401)` };
  if (reply.status === 429 || reply.status >= 500)
    return { kind: 'retry', message: `${who} answered HTTP ${reply.status}` };
  return { kind: 'retry', message: `${who}: unexpected reply "${line}" (HTTP ${reply.status})` };
}

export const noip: DdnsProviderImpl = {
  async setAddress(http, ctx, ip) {
    return parseDyndns2Reply(await http.send(noipUpdateRequest(ctx, ip)));
  },
};
