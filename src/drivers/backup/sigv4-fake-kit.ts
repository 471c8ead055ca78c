// A small S3 for tests, on 127.0.0.1, that checks SigV4 the way S3 does: it rebuilds the canonical
// request from what arrived, signs it with the secret it knows (node:crypto) and answers 403
// SignatureDoesNotMatch when the Authorization header's signature differs (s3rver does not check).
// One bucket, objects in memory; PUT (Content-Length required, like S3), ListObjectsV2 (paged),
// DELETE. Faults on demand: the next N requests fail with a status, or a redirect is answered.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeS3Options {
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  region?: string;
  /** Keys per ListObjectsV2 page (default 1000). */
  pageSize?: number;
}

export interface FakeS3 {
  url: string;
  objects: Map<string, Buffer>;
  /** Every request: method, path (no query), status answered. */
  requests: Array<{ method: string; path: string; status: number }>;
  /** The next `count` requests answer `status` (500 by default) before anything else is checked. */
  failNext(count: number, status?: number): void;
  /** Every request answers 301 (a wrong region or endpoint). */
  redirect: boolean;
  close(): Promise<void>;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
const rfc3986 = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function error(res: ServerResponse, status: number, code: string): number {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`,
  );
  return status;
}

/** The signature S3 expects for this request, or the reason the header cannot be checked. */
function expectedSignature(
  req: IncomingMessage,
  body: Buffer,
  o: FakeS3Options,
): { ok: true; given: string; want: string } | { ok: false; code: string } {
  const auth = req.headers.authorization ?? '';
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m) return { ok: false, code: 'AuthorizationHeaderMalformed' };
  const [, akid, date, region, signedHeaders, given] = m as unknown as string[];
  if (akid !== o.accessKeyId) return { ok: false, code: 'InvalidAccessKeyId' };
  if (region !== (o.region ?? 'us-east-1')) return { ok: false, code: 'AuthorizationHeaderMalformed' };
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const payload = String(req.headers['x-amz-content-sha256'] ?? '');
  if (!amzDate.startsWith(date!) || !payload) return { ok: false, code: 'AccessDenied' };
  if (payload !== 'UNSIGNED-PAYLOAD' && payload !== sha256(body))
    return { ok: false, code: 'XAmzContentSHA256Mismatch' };
  const [rawPath = '/', rawQuery = ''] = (req.url ?? '/').split('?');
  const path = rfc3986(decodeURIComponent(rawPath)).replace(/%2F/g, '/');
  const query = [...new URLSearchParams(rawQuery)]
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const names = signedHeaders!.split(';');
  const headers = names
    .map(
      (n) =>
        `${n}:${String(req.headers[n] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}`,
    )
    .join('\n');
  const canonical = [req.method, path, query, `${headers}\n`, signedHeaders, payload].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key = hmac(`AWS4${o.secretAccessKey}`, date!);
  for (const part of [region!, 's3', 'aws4_request']) key = hmac(key, part);
  return { ok: true, given: given!, want: createHmac('sha256', key).update(toSign).digest('hex') };
}

function listXml(o: FakeS3Options, objects: Map<string, Buffer>, q: URLSearchParams): string {
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const keys = [...objects.keys()]
    .filter((k) => k.startsWith(prefix) && !(delimiter && k.slice(prefix.length).includes(delimiter)))
    .sort();
  const start = Number(q.get('continuation-token') ?? 0);
  const size = o.pageSize ?? 1000;
  const page = keys.slice(start, start + size);
  const more = start + size < keys.length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult>',
    `<Name>${xml(o.bucket)}</Name><Prefix>${xml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount>`,
    `<IsTruncated>${more}</IsTruncated>`,
    more ? `<NextContinuationToken>${start + size}</NextContinuationToken>` : '',
    ...page.map(
      (k) =>
        `<Contents><Key>${xml(k)}</Key><Size>${objects.get(k)!.length}</Size><ETag>"x"</ETag></Contents>`,
    ),
    '</ListBucketResult>',
  ].join('');
}

export async function fakeS3(o: FakeS3Options): Promise<FakeS3> {
  const objects = new Map<string, Buffer>();
  const requests: FakeS3['requests'] = [];
  let failures: { count: number; status: number } = { count: 0, status: 500 };
  const state = { redirect: false };

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer): number => {
    if (failures.count > 0) {
      failures.count--;
      return error(res, failures.status, failures.status === 503 ? 'SlowDown' : 'InternalError');
    }
    if (state.redirect) return error(res, 301, 'PermanentRedirect');
    const sig = expectedSignature(req, body, o);
    if (!sig.ok) return error(res, sig.code === 'XAmzContentSHA256Mismatch' ? 400 : 403, sig.code);
    const a = Buffer.from(sig.given);
    const b = Buffer.from(sig.want);
    if (a.length !== b.length || !timingSafeEqual(a, b)) return error(res, 403, 'SignatureDoesNotMatch');
    const [rawPath = '/', rawQuery = ''] = (req.url ?? '/').split('?');
    const [, bucket = '', ...rest] = decodeURIComponent(rawPath).split('/');
    const key = rest.join('/');
    if (bucket !== o.bucket) return error(res, 404, 'NoSuchBucket');
    if (req.method === 'GET' && key === '') {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(listXml(o, objects, new URLSearchParams(rawQuery)));
      return 200;
    }
    if (req.method === 'PUT' && key) {
      if (req.headers['content-length'] === undefined) return error(res, 411, 'MissingContentLength');
      objects.set(key, body);
      res.writeHead(200, { etag: `"${sha256(body).slice(0, 32)}"` });
      res.end();
      return 200;
    }
    if (req.method === 'DELETE' && key) {
      objects.delete(key);
      res.writeHead(204);
      res.end();
      return 204;
    }
    return error(res, 405, 'MethodNotAllowed');
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    // The body is read whole before answering: the client always gets to send it, as from S3.
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = handle(req, res, Buffer.concat(chunks));
      requests.push({ method: req.method ?? '', path: (req.url ?? '').split('?')[0]!, status });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    objects,
    requests,
    failNext(count, status = 500) {
      failures = { count, status };
    },
    get redirect() {
      return state.redirect;
    },
    set redirect(v: boolean) {
      state.redirect = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
