// pic.ngo, the project's own DDNS for <cell>.pic.ngo. The spec names it but not its wire format; PIC
// speaks this JSON API to it (the service implements the same):
//   POST {api}/v1/ddns/address {hostname, ip}          → 200 {status: "updated" | "unchanged"}
//   POST {api}/v1/ddns/txt     {hostname, name, value} → 200 {status: "updated" | "unchanged"}
//   POST {api}/v1/ddns/txt/delete {hostname, name, value} → 200 {status: "updated" | "unchanged"}
// with Authorization: Bearer <token>; 401/403 bad token, 404 unknown host name, 429 and 5xx retry
// (Retry-After honoured).
import type { HttpReply, HttpRequest } from '../../ports/http-client.ts';
import {
  type DdnsProviderImpl,
  type ProviderContext,
  type PublishResult,
  retryAfter,
  trimSlash,
  unexpectedStatus,
} from '../provider.ts';

const post = (ctx: ProviderContext, path: string, body: unknown): HttpRequest => ({
  method: 'POST',
  url: `${trimSlash(ctx.baseUrl)}${path}`,
  headers: {
    authorization: `Bearer ${ctx.token}`,
    'content-type': 'application/json',
    'user-agent': ctx.userAgent,
  },
  body: JSON.stringify(body),
});

export const picNgoAddressRequest = (ctx: ProviderContext, ip: string) =>
  post(ctx, '/v1/ddns/address', { hostname: ctx.hostname, ip });

export const picNgoTxtRequest = (ctx: ProviderContext, name: string, value: string) =>
  post(ctx, '/v1/ddns/txt', { hostname: ctx.hostname, name, value });

export const picNgoTxtDeleteRequest = (ctx: ProviderContext, name: string, value: string) =>
  post(ctx, '/v1/ddns/txt/delete', { hostname: ctx.hostname, name, value });

export function parsePicNgoReply(reply: HttpReply): PublishResult {
  if (reply.status === 401 || reply.status === 403)
    return { kind: 'fatal', reason: 'badauth', message: `pic.ngo refused the token (HTTP ${reply.status})` };
  if (reply.status === 404)
    return { kind: 'fatal', reason: 'nohost', message: 'pic.ngo does not know this host name (HTTP 404)' };
  if (reply.status === 429)
    return { kind: 'retry', message: 'pic.ngo asked to slow down (HTTP 429)', ...retryAfter(reply) };
  if (reply.status !== 200) return unexpectedStatus(reply, 'pic.ngo');
  let status: unknown;
  try {
    status = (JSON.parse(reply.body) as { status?: unknown }).status;
  } catch {}
  if (status === 'updated') return { kind: 'updated', message: 'pic.ngo: updated' };
  if (status === 'unchanged') return { kind: 'unchanged', message: 'pic.ngo: no change' };
  return { kind: 'retry', message: 'pic.ngo: unexpected reply' };
}

export const picNgo: DdnsProviderImpl = {
  async setAddress(http, ctx, ip) {
    return parsePicNgoReply(await http.send(picNgoAddressRequest(ctx, ip)));
  },
  async setTxt(http, ctx, name, value) {
    return parsePicNgoReply(await http.send(picNgoTxtRequest(ctx, name, value)));
  },
  async removeTxt(http, ctx, name, value) {
    return parsePicNgoReply(await http.send(picNgoTxtDeleteRequest(ctx, name, value)));
  },
};
