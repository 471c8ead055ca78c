// Cloudflare API v4 with a Bearer API token (Zone → DNS → Edit on the zone). The record is found once
// (GET /zones/{zone}/dns_records?type=&name=), then PATCH /zones/{zone}/dns_records/{id} {content};
// a missing record is created (POST). Replies are {success, errors: [{code, message}], result}.
import { isIP } from 'node:net';
import type { HttpReply, HttpRequest } from '../../ports/http-client.ts';
import {
  type DdnsProviderImpl,
  type ProviderContext,
  type PublishResult,
  retryAfter,
  trimSlash,
} from '../provider.ts';

type RecordType = 'A' | 'AAAA' | 'TXT';
interface CfRecord {
  id: string;
  content: string;
}

const headers = (ctx: ProviderContext, json: boolean): Record<string, string> => ({
  authorization: `Bearer ${ctx.token}`,
  'user-agent': ctx.userAgent,
  ...(json ? { 'content-type': 'application/json' } : {}),
});
const records = (ctx: ProviderContext) =>
  `${trimSlash(ctx.baseUrl)}/zones/${encodeURIComponent(ctx.zoneId ?? '')}/dns_records`;

export const cloudflareFindRequest = (ctx: ProviderContext, type: RecordType, name: string): HttpRequest => ({
  method: 'GET',
  url: `${records(ctx)}?${new URLSearchParams({ type, name })}`,
  headers: headers(ctx, false),
});

export const cloudflarePatchRequest = (ctx: ProviderContext, id: string, content: string): HttpRequest => ({
  method: 'PATCH',
  url: `${records(ctx)}/${encodeURIComponent(id)}`,
  headers: headers(ctx, true),
  body: JSON.stringify({ content }),
});

export const cloudflareCreateRequest = (
  ctx: ProviderContext,
  type: RecordType,
  name: string,
  content: string,
): HttpRequest => ({
  method: 'POST',
  url: records(ctx),
  headers: headers(ctx, true),
  // ttl 1 = automatic; never proxied: the cell's own ports (WireGuard) must reach it directly.
  body: JSON.stringify({ type, name, content, ttl: type === 'TXT' ? 60 : 1, proxied: false }),
});

export const cloudflareDeleteRequest = (ctx: ProviderContext, id: string): HttpRequest => ({
  method: 'DELETE',
  url: `${records(ctx)}/${encodeURIComponent(id)}`,
  headers: headers(ctx, false),
});

function parseJson(body: string): { success?: boolean; errors?: { code?: number }[]; result?: unknown } {
  try {
    const v = JSON.parse(body);
    return typeof v === 'object' && v !== null ? v : {};
  } catch {
    return {};
  }
}

/** The failure of a Cloudflare reply, or undefined when it succeeded. */
export function cloudflareFailure(reply: HttpReply): PublishResult | undefined {
  const j = parseJson(reply.body);
  if (reply.status >= 200 && reply.status < 300 && j.success === true) return undefined;
  const codes = (Array.isArray(j.errors) ? j.errors : [])
    .map((e) => e?.code)
    .filter((c) => typeof c === 'number');
  // A 2xx that is not Cloudflare's JSON (a captive portal, a proxy page): try again later.
  if (reply.status >= 200 && reply.status < 300 && codes.length === 0)
    return { kind: 'retry', message: 'Cloudflare: unexpected reply' };
  const list = codes.length ? ` (error ${codes.join(', ')})` : '';
  // 9109 invalid access token, 10000 authentication error, 9103 unknown X-Auth-Key.
  if (reply.status === 401 || reply.status === 403 || codes.some((c) => [9109, 10000, 9103].includes(c!)))
    return { kind: 'fatal', reason: 'badauth', message: `Cloudflare refused the API token${list}` };
  // 7003/7000: no such zone (or no route to it), 81044: no such record.
  if (reply.status === 404 || codes.some((c) => [7003, 7000, 81044].includes(c!)))
    return {
      kind: 'fatal',
      reason: 'nohost',
      message: `Cloudflare does not know this zone or record${list}`,
    };
  if (reply.status === 429 || reply.status >= 500)
    return {
      kind: 'retry',
      message: `Cloudflare answered HTTP ${reply.status}${list}`,
      ...retryAfter(reply),
    };
  return {
    kind: 'fatal',
    reason: 'rejected',
    message: `Cloudflare refused the change: HTTP ${reply.status}${list}`,
  };
}

export function parseCloudflareFind(reply: HttpReply): CfRecord | null | PublishResult {
  const failed = cloudflareFailure(reply);
  if (failed) return failed;
  const result = parseJson(reply.body).result;
  if (!Array.isArray(result)) return { kind: 'retry', message: 'Cloudflare: unexpected reply' };
  const r = result[0] as { id?: unknown; content?: unknown } | undefined;
  if (!r) return null;
  if (typeof r.id !== 'string' || typeof r.content !== 'string')
    return { kind: 'retry', message: 'Cloudflare: unexpected reply' };
  return { id: r.id, content: r.content };
}

export function parseCloudflareWrite(reply: HttpReply): { id: string } | PublishResult {
  const failed = cloudflareFailure(reply);
  if (failed) return failed;
  const r = parseJson(reply.body).result as { id?: unknown } | undefined;
  return typeof r?.id === 'string'
    ? { id: r.id }
    : { kind: 'retry', message: 'Cloudflare: unexpected reply' };
}

const isResult = (v: unknown): v is PublishResult => typeof v === 'object' && v !== null && 'kind' in v;

async function upsert(
  http: { send(r: HttpRequest): Promise<HttpReply> },
  ctx: ProviderContext,
  type: RecordType,
  name: string,
  content: string,
  knownId: string | null,
): Promise<PublishResult> {
  let id = knownId;
  if (!id) {
    const found = parseCloudflareFind(await http.send(cloudflareFindRequest(ctx, type, name)));
    if (isResult(found)) return found;
    if (found && found.content === content)
      return { kind: 'unchanged', message: 'Cloudflare: the record already holds it', recordId: found.id };
    id = found?.id ?? null;
  }
  const written = parseCloudflareWrite(
    await http.send(
      id ? cloudflarePatchRequest(ctx, id, content) : cloudflareCreateRequest(ctx, type, name, content),
    ),
  );
  if (isResult(written)) return written;
  return {
    kind: 'updated',
    message: id ? 'Cloudflare: record updated' : 'Cloudflare: record created',
    recordId: written.id,
  };
}

/** Only the A record's id is remembered. */
function withoutId(r: PublishResult): PublishResult {
  if (!('recordId' in r)) return r;
  const { recordId: _, ...rest } = r;
  return rest;
}

export const cloudflare: DdnsProviderImpl = {
  async setAddress(http, ctx, ip) {
    const type = isIP(ip) === 6 ? 'AAAA' : 'A';
    // The remembered id is the A record's; an AAAA is looked up each time.
    const r = await upsert(http, ctx, type, ctx.hostname, ip, type === 'A' ? ctx.recordId : null);
    // A remembered record deleted since: forget it and look again once.
    if (r.kind === 'fatal' && r.reason === 'nohost' && ctx.recordId && type === 'A')
      return upsert(http, ctx, type, ctx.hostname, ip, null);
    return type === 'A' ? r : withoutId(r);
  },
  async setTxt(http, ctx, name, value) {
    return withoutId(await upsert(http, ctx, 'TXT', name, value, null));
  },
  // Deletes the TXT record only when it still holds the value this order published.
  async removeTxt(http, ctx, name, value) {
    const found = parseCloudflareFind(await http.send(cloudflareFindRequest(ctx, 'TXT', name)));
    if (isResult(found)) return withoutId(found);
    if (!found || found.content !== value)
      return { kind: 'unchanged', message: 'Cloudflare: nothing to remove' };
    const failed = cloudflareFailure(await http.send(cloudflareDeleteRequest(ctx, found.id)));
    return failed ? withoutId(failed) : { kind: 'updated', message: 'Cloudflare: record removed' };
  },
};
