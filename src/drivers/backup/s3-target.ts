// A backup target in an S3 bucket (AWS, MinIO, Backblaze B2, Wasabi, R2...), path-style, requests
// signed with SigV4 by aws4fetch. The archive is streamed in one PUT with its Content-Length (S3
// takes no chunked body) and an unsigned payload (hashing it first would read it twice). Answers are
// read up to a cap, redirects are not followed, every request has a time limit (an upload: no byte
// moving for stallMs), and an error names the HTTP status and S3's error code, never the URL (a
// presigned one would be a credential) or the key.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Readable, Transform } from 'node:stream';
import { AwsV4Signer } from 'aws4fetch';
import type { BackupTarget, TargetObject } from '../../core/ports/backup-target.ts';
import { TARGET_OBJECT_NAME } from '../../schema/backup-schedule.ts';
import { privateEndpointMessage, privateEndpointReason } from '../../schema/private-endpoint.ts';
import { BodyTooLarge, readCapped } from '../http/read-capped.ts';

export interface S3TargetOptions {
  endpoint: string;
  region: string;
  bucket: string;
  prefix: string | null;
  accessKeyId: string;
  secretAccessKey: string | undefined;
  /** A listing or a delete (default 30 s). */
  timeoutMs?: number;
  /** An upload fails when no byte moved, or no answer came, for this long (default 60 s). */
  stallMs?: number;
  /** A listing page's size cap (default 2 MiB; 1,000 keys take ~300 KB). */
  maxPageBytes?: number;
  /** Pages read at most (1,000 keys each). */
  maxPages?: number;
  /**
   * The endpoint may be on loopback, link-local or the cell's own networks (the owner's
   * `allow_private_endpoint`; tests on a local server). Otherwise every request first resolves the
   * host and refuses such an address (a name pointing at 127.0.0.1 or 169.254.169.254 included).
   */
  allowPrivate?: boolean;
  /** The cell's own networks (CIDRs), refused with the rest unless allowPrivate. */
  cellNetworks?: () => string[];
}

/** S3's limit for one PUT; a larger archive would need a multipart upload. */
export const S3_MAX_PUT_BYTES = 5 * 1024 ** 3;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const HINTS: Record<string, string> = {
  SignatureDoesNotMatch: 'check the secret access key',
  InvalidAccessKeyId: 'check the access key id',
  AccessDenied: 'the key may not write to this bucket or prefix',
  NoSuchBucket: 'check the bucket name',
  AuthorizationHeaderMalformed: 'check the region',
  PermanentRedirect: 'check the endpoint and the region',
};

function failure(err: unknown, what: string): Error {
  const e = err as { name?: string; message?: string; cause?: { code?: unknown } };
  if (e.name === 'S3Error') return err as Error;
  if (e.name === 'StallError') return new Error(`${what} stalled: nothing moved for too long`);
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return new Error(`${what} timed out`);
  if (err instanceof BodyTooLarge) return new Error(`${what}: the answer is too large`);
  const code =
    typeof e.cause?.code === 'string' && /^[A-Z_0-9]{2,40}$/.test(e.cause.code) ? e.cause.code : '';
  return new Error(code ? `${what} failed (${code})` : `${what} failed`);
}

class S3Error extends Error {
  override name = 'S3Error';
}

/** An answer that is not a success, as `S3 answered HTTP 403 SignatureDoesNotMatch (hint)`. */
async function answerError(res: Response, what: string): Promise<S3Error> {
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel();
    return new S3Error(
      `${what}: S3 answered a redirect (HTTP ${res.status}, not followed): check the endpoint and the region`,
    );
  }
  const text = await readCapped(res, 16 * 1024, 'cut').catch(() => '');
  const code = /<Code>([A-Za-z0-9.]{1,64})<\/Code>/.exec(text)?.[1];
  const hint = code ? HINTS[code] : undefined;
  return new S3Error(
    `${what}: S3 answered HTTP ${res.status}${code ? ` ${code}` : ''}${hint ? ` (${hint})` : ''}`,
  );
}

const decodeXml = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

/** The keys and sizes of one ListObjectsV2 page, and the token of the next one. */
export function parseListPage(xml: string): { objects: TargetObject[]; next: string | undefined } {
  const objects: TargetObject[] = [];
  for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
    const key = /<Key>([^<]*)<\/Key>/.exec(m[1]!)?.[1];
    const size = /<Size>(\d{1,16})<\/Size>/.exec(m[1]!)?.[1];
    if (key !== undefined && size !== undefined) objects.push({ name: decodeXml(key), size: Number(size) });
  }
  const truncated = /<IsTruncated>true<\/IsTruncated>/.test(xml);
  const token = /<NextContinuationToken>([^<]{1,1024})<\/NextContinuationToken>/.exec(xml)?.[1];
  return { objects, next: truncated && token ? decodeXml(token) : undefined };
}

/**
 * Refuses a host that is, or resolves to, this machine, a link-local address or the cell's own
 * networks (private-endpoint.ts). fetch resolves the name again: a name that changes its answer in
 * between (DNS rebinding) is not stopped here; a literal address or a plain misconfiguration is.
 */
async function offHost(host: string, cellNetworks: string[]): Promise<void> {
  const refuse = (reason: string) => {
    throw new S3Error(`the endpoint's host ${privateEndpointMessage(reason)}`);
  };
  const literal = privateEndpointReason(host, cellNetworks);
  if (literal) refuse(literal);
  if (isIP(host.replace(/^\[|\]$/g, ''))) return;
  let addresses: { address: string }[];
  try {
    addresses = await lookup(host, { all: true, verbatim: true });
  } catch (err) {
    throw new S3Error(
      `the endpoint's host does not resolve (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  for (const a of addresses) {
    const reason = privateEndpointReason(a.address, cellNetworks);
    if (reason) refuse(`resolves to ${a.address}, which ${reason}`);
  }
}

export function s3Target(o: S3TargetOptions): BackupTarget {
  const timeoutMs = o.timeoutMs ?? 30_000;
  const stallMs = o.stallMs ?? 60_000;
  const maxPageBytes = o.maxPageBytes ?? 2 * 1024 * 1024;
  const maxPages = o.maxPages ?? 20;
  const base = `${o.endpoint.replace(/\/+$/, '')}/${encodeURIComponent(o.bucket)}`;
  const dir = o.prefix ? `${o.prefix}/` : '';
  const keyUrl = (name: string) => {
    if (!TARGET_OBJECT_NAME.test(name))
      throw new Error('refused an object name the scheduler does not write');
    return `${base}/${`${dir}${name}`.split('/').map(encodeURIComponent).join('/')}`;
  };

  async function send(
    method: string,
    url: string,
    init: { headers?: Record<string, string>; body?: ReadableStream; signal: AbortSignal },
  ): Promise<Response> {
    if (!o.secretAccessKey) throw new S3Error('no secret access key is stored for this target');
    if (!o.allowPrivate) await offHost(new URL(url).hostname, o.cellNetworks?.() ?? []);
    const signed = await new AwsV4Signer({
      method,
      url,
      headers: { 'x-amz-content-sha256': init.body ? 'UNSIGNED-PAYLOAD' : EMPTY_SHA256, ...init.headers },
      accessKeyId: o.accessKeyId,
      secretAccessKey: o.secretAccessKey,
      service: 's3',
      region: o.region,
    }).sign();
    return fetch(signed.url, {
      method,
      headers: signed.headers,
      redirect: 'manual',
      signal: init.signal,
      ...(init.body ? { body: init.body, duplex: 'half' } : {}),
    } as RequestInit);
  }

  return {
    async put(name, stream, size) {
      const what = 'upload';
      if (size > S3_MAX_PUT_BYTES)
        throw new S3Error(
          `${what}: the backup is ${(size / 1024 ** 3).toFixed(1)} GiB; one S3 upload takes at most 5 GiB (multipart uploads are not supported yet)`,
        );
      const url = keyUrl(name);
      const abort = new AbortController();
      const stall = setTimeout(
        () => abort.abort(Object.assign(new Error(), { name: 'StallError' })),
        stallMs,
      );
      // Every chunk that moves restarts the stall timer; after the last one it bounds the answer's wait.
      const moving = new Transform({
        transform(chunk, _enc, done) {
          stall.refresh();
          done(null, chunk);
        },
      });
      stream.on('error', (err) => moving.destroy(err));
      try {
        const res = await send('PUT', url, {
          headers: { 'content-length': String(size), 'content-type': 'application/octet-stream' },
          body: Readable.toWeb(stream.pipe(moving)) as ReadableStream,
          signal: abort.signal,
        });
        if (!res.ok) throw await answerError(res, what);
        await res.body?.cancel();
      } catch (err) {
        throw failure(abort.signal.aborted ? abort.signal.reason : err, what);
      } finally {
        clearTimeout(stall);
        moving.destroy();
      }
    },

    async list() {
      const what = 'listing';
      const out: TargetObject[] = [];
      let token: string | undefined;
      for (let page = 0; page < maxPages; page++) {
        const q = new URLSearchParams({ 'list-type': '2', delimiter: '/', prefix: dir });
        if (token) q.set('continuation-token', token);
        try {
          const res = await send('GET', `${base}?${q}`, { signal: AbortSignal.timeout(timeoutMs) });
          if (!res.ok) throw await answerError(res, what);
          const parsed = parseListPage(await readCapped(res, maxPageBytes, 'throw'));
          for (const obj of parsed.objects) {
            const name = obj.name.startsWith(dir) ? obj.name.slice(dir.length) : '';
            if (TARGET_OBJECT_NAME.test(name)) out.push({ name, size: obj.size });
          }
          token = parsed.next;
        } catch (err) {
          throw failure(err, what);
        }
        if (!token) return out;
      }
      throw new S3Error(`${what}: more than ${maxPages} pages of objects under the prefix`);
    },

    async remove(name) {
      const what = 'delete';
      const url = keyUrl(name);
      try {
        const res = await send('DELETE', url, { signal: AbortSignal.timeout(timeoutMs) });
        // Already gone is what a delete wants.
        if (!res.ok && res.status !== 404) throw await answerError(res, what);
        await res.body?.cancel();
      } catch (err) {
        throw failure(err, what);
      }
    },
  };
}
