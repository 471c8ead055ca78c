// A fake HTTP server on 127.0.0.1 for the DDNS tests (providers and IP echo): records each request
// exactly as it arrived and answers what the test sets. Nothing leaves the machine.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  /** The request target as sent: path and raw query. */
  target: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakeAnswer {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
}

export interface FakeServer {
  url: string;
  seen: SeenRequest[];
  answer: (req: SeenRequest) => FakeAnswer;
  close(): Promise<void>;
}

export async function fakeHttp(answer: (req: SeenRequest) => FakeAnswer = () => ({})): Promise<FakeServer> {
  const fake: FakeServer = { url: '', seen: [], answer, close: async () => {} };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const seen: SeenRequest = {
        method: req.method ?? '',
        target: req.url ?? '',
        path: u.pathname,
        query: Object.fromEntries(u.searchParams),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      fake.seen.push(seen);
      const a = fake.answer(seen);
      res.writeHead(a.status ?? 200, { 'content-type': 'text/plain', ...a.headers });
      res.end(a.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}
