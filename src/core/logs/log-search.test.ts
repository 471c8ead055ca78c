import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogLine, LogsPort } from '../ports/logs.ts';
import { parseDaemonLines } from './daemon-log-lines.ts';
import { LogSearch } from './log-search.ts';

const caddyOutput = [
  '2026-12-03T12:00:00.100000000Z {"level":"info","ts":1796299200.5,"logger":"http.log.access.log0","msg":"handled request","request":{"method":"GET","uri":"/api/auth/me"},"status":200}',
  '2026-12-03T12:00:01.000000000Z {"level":"error","ts":1796299201.25,"logger":"tls","msg":"loading certificate failed"}',
  '2026-12-03T12:00:02.000000000Z [cell-caddy] missing /etc/pic/caddy/caddy.json',
  '',
].join('\n');

test("Caddy's JSON lines become the cell's log lines; other text keeps its words", () => {
  const lines = parseDaemonLines('caddy', caddyOutput);
  assert.equal(lines.length, 3);
  assert.deepEqual(
    { ...lines[0], request: undefined },
    {
      service: 'caddy',
      time: 1796299200500,
      level: 'info',
      msg: 'handled request',
      logger: 'http.log.access.log0',
      request: undefined,
      status: 200,
    },
  );
  assert.equal(lines[1]!.level, 'error');
  assert.equal(lines[2]!.msg, '[cell-caddy] missing /etc/pic/caddy/caddy.json');
  assert.equal(lines[2]!.time, Date.parse('2026-12-03T12:00:02.000Z'));
  // A service cannot be claimed by a line, and an unknown level is read as info.
  const [odd] = parseDaemonLines('caddy', '{"service":"auth","level":"shout","msg":"x","ts":1}');
  assert.equal(odd!.service, 'caddy');
  assert.equal(odd!.level, 'info');
});

test('the search merges the files and the daemon output, newest first, filtered by level and text', async () => {
  const fileLine: LogLine = { service: 'api', time: 1796299200800, level: 'info', msg: 'request' };
  // The file search filters for itself (the registry's own tests cover it): here, by service and level.
  const files = {
    search: (q: { service?: string; level?: string }) =>
      (q.service ?? 'api') === 'api' && (q.level ?? 'info') === 'info' ? [{ ...fileLine }] : [],
  } as unknown as LogsPort;
  const s = new LogSearch({
    files,
    daemonOutput: async (service) => (service === 'caddy' ? caddyOutput : undefined),
  });
  const all = await s.search({ limit: 10 });
  assert.deepEqual(
    all.map((l) => `${l.service}:${l.msg}`),
    [
      'caddy:[cell-caddy] missing /etc/pic/caddy/caddy.json',
      'caddy:loading certificate failed',
      'api:request',
      'caddy:handled request',
    ],
  );
  assert.deepEqual(
    (await s.search({ level: 'error', limit: 10 })).map((l) => l.msg),
    ['loading certificate failed'],
  );
  assert.deepEqual(
    (await s.search({ service: 'caddy', q: 'AUTH/ME', limit: 10 })).map((l) => l.msg),
    ['handled request'],
  );
  const failing = new LogSearch({ files, daemonOutput: async () => Promise.reject(new Error('gone')) });
  assert.equal((await failing.search({ limit: 10 })).length, 1, 'a daemon that is down adds nothing');
});
