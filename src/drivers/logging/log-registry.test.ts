import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pino from 'pino';
import { LogRegistry } from './log-registry.ts';

const root = mkdtempSync(join(tmpdir(), 'pic-logs-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => new LogRegistry(join(root, `r${n++}`), {});

test('secret-named keys are redacted before a line is written, at the top level and one level down', () => {
  const logs = fresh();
  const log = logs.get('auth');
  log.info(
    {
      password: 'P1',
      token: 'T1',
      admin_password: 'P2',
      new_password: 'P3',
      current_password: 'P4',
      private_key: 'K1',
      preshared_key: 'K2',
      passphrase: 'S1',
      body: { password: 'P5', token: 'T2' },
    },
    'redaction probe',
  );
  logs.close();
  const text = readFileSync(join(root, `r${n - 1}`, 'auth.log'), 'utf8');
  assert.match(text, /redaction probe/);
  for (const secret of ['P1', 'P2', 'P3', 'P4', 'P5', 'T1', 'T2', 'K1', 'K2', 'S1'])
    assert.ok(!text.includes(`"${secret}"`), secret);
  assert.match(text, /\[redacted\]/);
});

test('one file per service; levels change at run time', () => {
  const logs = fresh();
  const dir = join(root, `r${n - 1}`);
  logs.get('dns').debug('hidden at info');
  logs.setLevel('dns', 'debug');
  logs.get('dns').debug('shown at debug');
  logs.get('wireguard').info('wg line');
  assert.equal(logs.levels().dns, 'debug');
  assert.equal(logs.levels().api, 'info');
  logs.close();
  const dns = readFileSync(join(dir, 'dns.log'), 'utf8');
  assert.ok(!dns.includes('hidden at info'));
  assert.ok(dns.includes('shown at debug'));
  assert.ok(!dns.includes('wg line'));
  assert.ok(readFileSync(join(dir, 'wireguard.log'), 'utf8').includes('wg line'));
});

test('search: newest first across the live file and its rotations, by text, service and level', () => {
  const logs = fresh();
  const dir = join(root, `r${n - 1}`);
  const line = (time: number, level: number, msg: string) =>
    `${JSON.stringify({ level, time, service: 'api', msg })}\n`;
  writeFileSync(join(dir, 'api.log.2'), line(1, 30, 'oldest needle'));
  writeFileSync(join(dir, 'api.log.1'), `${line(2, 50, 'middle needle')}not json\n`);
  logs.get('api').warn('newest needle');
  const hits = logs.search({ q: 'NEEDLE', limit: 10 });
  assert.deepEqual(
    hits.map((h) => h.msg),
    ['newest needle', 'middle needle', 'oldest needle'],
  );
  assert.equal(hits[1]!.level, 'error');
  assert.deepEqual(
    logs.search({ q: 'needle', level: 'error', limit: 10 }).map((h) => h.msg),
    ['middle needle'],
  );
  assert.equal(logs.search({ q: 'needle', service: 'dns', limit: 10 }).length, 0);
  assert.equal(logs.search({ q: 'needle', limit: 2 }).length, 2);
  logs.close();
});

test('search: a busy service does not hide the newest lines of another', () => {
  const logs = fresh();
  const dir = join(root, `r${n - 1}`);
  const line = (service: string, time: number, msg: string) =>
    `${JSON.stringify({ level: 30, time, service, msg })}\n`;
  // api: many old lines; dns: its newest line sits in a rotated file.
  writeFileSync(
    join(dir, 'api.log.1'),
    Array.from({ length: 50 }, (_, i) => line('api', i, `api ${i}`)).join(''),
  );
  writeFileSync(join(dir, 'dns.log.1'), line('dns', 1000, 'dns newest'));
  const hits = logs.search({ limit: 5 });
  assert.equal(hits[0]!.msg, 'dns newest');
  assert.deepEqual(
    hits.slice(1).map((h) => h.msg),
    ['api 49', 'api 48', 'api 47', 'api 46'],
  );
  logs.close();
});

test('info lines are buffered and found by search at once; warnings reach the file at once', () => {
  const logs = fresh();
  const file = join(root, `r${n - 1}`, 'api.log');
  logs.get('api').info('buffered line');
  assert.ok(!readFileSync(file, 'utf8').includes('buffered line'), 'not a write per line');
  assert.equal(logs.search({ q: 'buffered line', limit: 1 }).length, 1, 'search writes the buffer first');
  logs.get('api').warn('warn line');
  assert.ok(readFileSync(file, 'utf8').includes('warn line'));
  logs.close();
});

test('buffered lines are written when the process exits, also on a crash', () => {
  for (const [how, end] of [
    ['exit', 'process.exit(3)'],
    ['crash', "setImmediate(() => { throw new Error('boom') })"],
  ] as const) {
    const dir = join(root, `exit-${how}`);
    const code = `import { LogRegistry } from ${JSON.stringify(join(import.meta.dirname, 'log-registry.ts'))};
      const logs = new LogRegistry(${JSON.stringify(dir)}, {});
      logs.get('api').info('last words ${how}');
      ${end};`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
    assert.notEqual(r.status, 0, r.stderr);
    assert.ok(readFileSync(join(dir, 'api.log'), 'utf8').includes(`last words ${how}`), how);
  }
});

test('a request line is the line pino writes for it, and follows the level', () => {
  const logs = fresh();
  const dir = join(root, `r${n - 1}`);
  const line = { method: 'GET', path: '/api/"odd"\\path\n', status: 200, ms: 3, source: '10.0.0.2' };
  logs.request('api', line);
  logs.setLevel('api', 'warn');
  logs.request('api', { ...line, path: '/hidden-at-warn' });
  logs.close();
  const written = readFileSync(join(dir, 'api.log'), 'utf8');
  assert.ok(!written.includes('hidden-at-warn'));
  // What pino itself writes for the same call (the slow path, with its own time).
  let expected = '';
  pino({ level: 'info', base: { service: 'api' } }, { write: (l: string) => (expected += l) }).info(
    line,
    'request',
  );
  const time = (l: string) => l.replace(/"time":\d+/, '"time":T');
  assert.equal(time(written), time(expected));
});
