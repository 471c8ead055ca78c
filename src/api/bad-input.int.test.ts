// Bad input for every endpoint in allRoutes: malformed JSON, wrong types, oversized bodies, unknown
// fields and hostile strings. Each must answer 4xx with the usual error shape (never 5xx), and none may
// change the stored state. A new route is covered automatically; give it a BASE body below when an
// empty body would stop it before the interesting checks. A route only peers may call is sent with a
// peer's session, every other with the admin's; a required query field gets a value its schema
// accepts, so the checks are not masked by a missing one.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { InjectOptions } from 'fastify';
import type { z } from 'zod';
import { HOSTILE_STRINGS } from '../schema/hostile.ts';
import type { RouteDef } from './route.ts';
import { allRoutes } from './routes/index.ts';
import { ADMIN_PASSWORD, authed, completeSetup, type Kit, type Login, login, makeKit } from './test-kit.ts';

/** A body that passes validation but changes nothing (wrong token, wrong password...). */
const BASE: Record<string, Record<string, unknown>> = {
  'POST /api/setup/complete': {
    token: 'not-the-token',
    cell_name: 'other',
    domain_mode: 'local',
    timezone: 'UTC',
    admin_password: 'y'.repeat(16),
    services: [],
  },
  'POST /api/auth/login': { username: 'nobody', password: 'not the password' },
  'POST /api/auth/password': { current_password: 'not the password', new_password: 'z'.repeat(16) },
  'PUT /api/config': {},
  'PUT /api/logs/levels': { levels: {} },
  // The sweep's cell has no Files service: a valid path answers 409 "not installed" and stores nothing.
  'POST /api/files/:account/folders': { path: 'x' },
  'POST /api/peer/files/folders': { path: 'x' },
  'POST /api/files/:account/move': { from: 'x', to: 'y' },
  'POST /api/peer/files/move': { from: 'x', to: 'y' },
};

/** Fields where any string is a legal value: a hostile one must simply do no harm. */
const FREE_TEXT = new Set([
  'password',
  'current_password',
  'new_password',
  'admin_password',
  'username',
  'token',
  'passphrase',
]);

/**
 * Fields that hold a path in a file browser's folder (schema/files.ts). Most hostile strings are legal,
 * if odd, file names there (`;id`, `$(id)`, `--help`, `{env.HOME}`: a file may be called that, and the
 * name only ever reaches the file system as one path segment, never a shell or a config line): they
 * must simply do no harm. What climbs out of the folder, starts at the root, carries a NUL or another
 * control character, names nothing or is too long must be refused with a 400 naming the field, before
 * anything else is looked at (Files need not even be installed).
 */
const PATH_FIELDS = new Set(['path', 'from', 'to']);
/** What a path field answers to each of HOSTILE_STRINGS (every entry decided here: see the test below). */
const PATH_VERDICT: ReadonlyMap<string, 'refused' | 'legal'> = new Map([
  [';id', 'legal'],
  ['$(id)', 'legal'],
  ['`id`', 'legal'],
  ['a\nPostUp = x', 'refused'], // a newline
  ['a\r\nb', 'refused'], // CR, LF
  ['{env.HOME}', 'legal'],
  ['{file./etc/shadow}', 'legal'], // three relative segments: `{file.` / `etc` / `shadow}` inside the folder
  ['../../etc/passwd', 'refused'], // climbs
  ['/etc/passwd', 'refused'], // absolute
  ['--help', 'legal'], // never an argument: no process is given a path
  ['-x', 'legal'],
  ['a b', 'legal'],
  ["a'b", 'legal'],
  ['a"b', 'legal'],
  ['a\0b', 'refused'], // NUL
  ['import x', 'legal'],
  ['', 'refused'], // names nothing (a listing's path may be '': the folder itself, see FOLDER_PATHS)
] as Array<[string, 'refused' | 'legal']>);
/** More path tricks every path field must refuse with a 400. */
const PATH_TRICKS = [
  '..',
  '.',
  'a/../../b',
  'a/..',
  './a',
  'a//b',
  'a/',
  '\\..\\x',
  'a\tb',
  'a\u007fb',
  'a\u0085b',
  ' a',
  'a ',
  'x'.repeat(256),
  `${'a/'.repeat(64)}a`,
  'x'.repeat(5000),
];
/** Routes whose path may be '' (the account's folder itself). */
const FOLDER_PATHS = new Set(['GET /api/files/:account/list', 'GET /api/peer/files/list']);
const pathRefused = (key: string, h: string) =>
  h === '' ? !FOLDER_PATHS.has(key) : PATH_VERDICT.get(h) !== 'legal';

/** Routes whose success with any valid body harms nothing (a backup only adds a file). */
const HARMLESS_SUCCESS = new Set(['POST /api/config/backup']);

/** A streamed upload is held to the cell's own cap as it is read (16 GiB by default: too big to send here). */
const STREAM_CAP = 1024 * 1024;
/**
 * Streamed routes held as they read to something else than STREAM_CAP: a Files upload to what is left
 * of the account's quota (507, checked in src/files-api.int.test.ts; the sweep's cell has no Files
 * service). Every raw-body route is also checked to refuse a declared Content-Length over its maxBytes
 * before it reads a byte.
 */
const QUOTA_CAPPED = new Set(['PUT /api/files/:account/upload', 'PUT /api/peer/files/upload']);

let kit: Kit;
let admin: Login;
/** A peer with a cell login, for the routes only peers may call. */
let peer: Login;
let peerPassword = '';
let addr = 0;
/** Each request from its own address, so login rate limits do not mask the validation answers. */
const nextAddress = () => {
  addr++;
  return `10.${(addr >> 16) & 255}.${(addr >> 8) & 255}.${addr & 255}`;
};

before(async () => {
  kit = await makeKit({}, { backup: { uploadMaxBytes: STREAM_CAP } });
  admin = await completeSetup(kit);
  const made = await kit.app.inject({
    method: 'POST',
    url: '/api/peers',
    headers: authed(admin),
    payload: { name: 'sweep-peer' },
  });
  assert.equal(made.statusCode, 201, made.body);
  peerPassword = made.json().password;
  peer = await login(kit.app, 'sweep-peer', peerPassword);
});
after(() => kit.close());
// POST /api/auth/logout ends the session it is sent with: start each test with live ones.
beforeEach(async () => {
  const me = await kit.app.inject({ url: '/api/auth/me', headers: { cookie: admin.cookie } });
  if (me.statusCode !== 200) admin = await login(kit.app, 'admin', ADMIN_PASSWORD);
  const them = await kit.app.inject({ url: '/api/auth/me', headers: { cookie: peer.cookie } });
  if (them.statusCode !== 200) peer = await login(kit.app, 'sweep-peer', peerPassword);
});

const snapshot = () => ({
  config: { ...kit.cell.db.prepare('SELECT current, applied FROM config').get() },
  users: kit.cell.db
    .prepare('SELECT username, role, password_hash FROM users ORDER BY id')
    .all()
    .map((r) => ({ ...r })),
  setup: { ...kit.cell.db.prepare('SELECT completed_at FROM setup').get() },
});

/**
 * The route's URL with each path parameter filled by a value its schema accepts ('x' for a name, '1'
 * for a numeric id): the body checks below must not be masked by a parameter error.
 */
function sampleUrl(def: RouteDef): string {
  const names = [...def.url.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]!);
  const pick = (name: string) =>
    // A store key's id is 64 hex digits.
    ['x', '1', 'a1', 'backup-20000101-000000-000000', '0'.repeat(64)].find(
      (v) => def.params?.safeParse({ ...Object.fromEntries(names.map((n) => [n, v])), [name]: v }).success,
    ) ?? 'x';
  return def.url.replace(/:([A-Za-z_]+)/g, (_m, name: string) => pick(name));
}

function queryShape(def: RouteDef): Record<string, z.ZodType> {
  return (def.query as unknown as { shape?: Record<string, z.ZodType> } | undefined)?.shape ?? {};
}

/**
 * A value its schema accepts for each required query field (a path for a file route's `path`): the
 * checks below must not be masked by a missing query field. Optional fields are left out.
 */
function sampleQuery(def: RouteDef): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, s] of Object.entries(queryShape(def))) {
    if (s.safeParse(undefined).success) continue;
    out[name] = ['x.txt', 'x', '1', 'true'].find((v) => s.safeParse(v).success) ?? 'x';
  }
  return out;
}

/** The route's sample URL with this query (each value percent-encoded, nothing else added). */
function urlWith(def: RouteDef, query: Record<string, string>, raw = ''): string {
  const pairs = Object.entries(query).map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
  if (raw) pairs.push(raw);
  return pairs.length ? `${sampleUrl(def)}?${pairs.join('&')}` : sampleUrl(def);
}

/** A route only peers may call is sent with the peer's session; every other with the admin's. */
const peerOnly = (def: RouteDef) => def.access !== 'public' && !def.access.includes('admin');
const sessionFor = (def: RouteDef) => (peerOnly(def) ? peer : admin);

function send(def: RouteDef, extra: Partial<InjectOptions> & { headers?: Record<string, string> } = {}) {
  return kit.app.inject({
    method: def.method,
    url: urlWith(def, sampleQuery(def)),
    remoteAddress: nextAddress(),
    ...extra,
    headers: { ...authed(sessionFor(def)), ...extra.headers },
  } as InjectOptions);
}

function assertClientError(res: { statusCode: number; body: string }, what: string, want?: number): void {
  if (want) assert.equal(res.statusCode, want, `${what}: ${res.body}`);
  assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${what} → ${res.statusCode} ${res.body}`);
  const body = JSON.parse(res.body);
  assert.equal(typeof body.error, 'string', what);
}

/**
 * A path field's answer to a hostile string: a 400 naming the field (`query.path` for a query) for
 * what PATH_VERDICT refuses, before any state check; anything else is a legal name and must do no
 * harm: no 5xx, no echo, and no success (the sweep's cell has no Files service).
 */
function assertPathAnswer(
  key: string,
  field: string,
  h: string,
  r: { statusCode: number; body: string },
): void {
  const what = `${key} ${field}=${JSON.stringify(h.slice(0, 40))}${h.length > 40 ? '…' : ''}`;
  if (pathRefused(key, h)) {
    assertClientError(r, what, 400);
    assert.ok(fieldNames(r).includes(field), `${what}: ${field} not named in ${r.body}`);
  } else {
    assert.ok(r.statusCode >= 400 && r.statusCode < 500, `${what} → ${r.statusCode} ${r.body}`);
  }
  assert.ok(!r.body.includes(h) || h.length < 3, `${what}: the answer echoes it`);
}

function bodyShape(def: RouteDef): Record<string, z.ZodType> {
  const s = def.body as unknown as { shape?: Record<string, z.ZodType> } | undefined;
  return s?.shape ?? {};
}

const fieldNames = (res: { body: string }) =>
  ((JSON.parse(res.body).fields ?? []) as Array<{ field: string }>).map((f) => f.field);

// Routes that take a raw file (RouteDef.rawBody) are checked apart, at the end: JSON is not their body.
const writes = allRoutes.filter((d) => d.method !== 'GET' && !d.rawBody);
const rawWrites = allRoutes.filter((d) => d.rawBody);
const reads = allRoutes.filter((d) => d.method === 'GET');

describe('every state-changing endpoint', () => {
  for (const def of writes) {
    const key = `${def.method} ${def.url}`;
    test(`${key}: malformed JSON → 400 invalid_json`, async () => {
      const before = snapshot();
      for (const raw of ['{', '{"a":', 'nul', '{"a":1}}', "{'a':1}", '\u0000']) {
        const r = await send(def, {
          headers: { 'content-type': 'application/json' },
          payload: raw,
        });
        assertClientError(r, `${key} ${JSON.stringify(raw)}`, 400);
        assert.equal(JSON.parse(r.body).error, 'invalid_json');
      }
      assert.deepEqual(snapshot(), before);
    });

    test(`${key}: oversized body → 413`, async () => {
      const before = snapshot();
      const big = JSON.stringify({ ...BASE[key], pad: 'x'.repeat(100 * 1024) });
      const r = await send(def, {
        headers: { 'content-type': 'application/json' },
        payload: big,
      });
      assertClientError(r, key, 413);
      const huge = await send(def, {
        headers: { 'content-type': 'application/json' },
        payload: `"${'x'.repeat(10 * 1024 * 1024)}"`,
      });
      assertClientError(huge, key, 413);
      assert.deepEqual(snapshot(), before);
    });

    test(`${key}: unknown fields → 400 naming them`, async () => {
      const before = snapshot();
      const r = await send(def, { payload: { ...BASE[key], zz_unknown: 1, role: 'admin' } });
      assertClientError(r, key, 400);
      const names = fieldNames(r);
      if (def.body)
        assert.deepEqual(names.filter((n) => n === 'zz_unknown' || n === 'role').sort(), [
          'role',
          'zz_unknown',
        ]);
      else assert.deepEqual(names, ['(body)']);
      assert.deepEqual(snapshot(), before);
    });

    test(`${key}: non-object bodies → 400`, async () => {
      const before = snapshot();
      for (const payload of ['[]', '"text"', '42', 'true', 'null', '[{"username":"admin"}]']) {
        const r = await send(def, {
          headers: { 'content-type': 'application/json' },
          payload,
        });
        if (!def.body && payload === 'null') continue; // a bodiless route may read JSON null as "no body"
        assertClientError(r, `${key} ${payload}`, 400);
      }
      assert.deepEqual(snapshot(), before);
    });

    test(`${key}: __proto__ and constructor keys → 400, no prototype pollution`, async () => {
      const before = snapshot();
      for (const raw of [
        '{"__proto__":{"role":"admin","isAdmin":true}}',
        '{"constructor":{"prototype":{"role":"admin"}}}',
      ]) {
        const r = await send(def, {
          headers: { 'content-type': 'application/json' },
          payload: raw,
        });
        assertClientError(r, `${key} ${raw}`, 400);
      }
      assert.equal(({} as Record<string, unknown>).role, undefined);
      assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
      assert.deepEqual(snapshot(), before);
    });

    const shape = bodyShape(def);
    if (Object.keys(shape).length) {
      test(`${key}: wrong types → 400 naming each field`, async () => {
        const before = snapshot();
        for (const wrong of [true, 12345, { nested: 1 }, [1, 2]]) {
          // A body whose every field accepts the value (`{enabled: true}`) is not a wrong-type body.
          if (Object.values(shape).every((s) => s.safeParse(wrong).success)) continue;
          const payload = Object.fromEntries(Object.keys(shape).map((k) => [k, wrong]));
          const r = await send(def, { payload });
          assertClientError(r, `${key} ${JSON.stringify(wrong)}`, 400);
          const named = new Set(fieldNames(r).map((f) => f.split('.')[0]));
          for (const k of Object.keys(shape)) {
            // A value the field accepts (true for a boolean field) is not a wrong type for it.
            if (shape[k]!.safeParse(wrong).success) continue;
            // A record field accepts an empty object; every other field must be named.
            if (typeof wrong === 'object' && !Array.isArray(wrong) && k === 'levels') continue;
            assert.ok(
              named.has(k),
              `${key}: ${k}=${JSON.stringify(wrong)} not named in ${JSON.stringify(fieldNames(r))}`,
            );
          }
        }
        assert.deepEqual(snapshot(), before);
      });

      test(`${key}: hostile strings in every field → 400, or harmless`, async () => {
        const before = snapshot();
        for (const field of Object.keys(shape)) {
          if (PATH_FIELDS.has(field)) {
            for (const h of [...HOSTILE_STRINGS, ...PATH_TRICKS]) {
              const r = await send(def, { payload: { ...BASE[key], [field]: h } });
              assertPathAnswer(key, field, h, r);
            }
            continue;
          }
          for (const h of HOSTILE_STRINGS) {
            const r = await send(def, { payload: { ...BASE[key], [field]: h } });
            assert.ok(r.statusCode < 500, `${key} ${field}=${JSON.stringify(h)} → ${r.statusCode}`);
            if (!FREE_TEXT.has(field)) assertClientError(r, `${key} ${field}=${JSON.stringify(h)}`, 400);
            else if (!HARMLESS_SUCCESS.has(key))
              assert.ok(r.statusCode >= 400, `${key} ${field}=${JSON.stringify(h)} → ${r.statusCode}`);
            assert.ok(!r.body.includes(h) || h.length < 3, `${key}: the answer echoes ${JSON.stringify(h)}`);
          }
        }
        assert.deepEqual(snapshot(), before);
      });
    }
  }
});

describe('every read endpoint', () => {
  for (const def of reads) {
    const key = `${def.method} ${def.url}`;
    test(`${key}: unknown and hostile query parameters`, async () => {
      const before = snapshot();
      const base = sampleQuery(def);
      // What the route answers to a good query: a route over the data plane answers 503 unavailable in
      // this cell (no Docker), and may answer that to a query it accepts too. No query makes a 5xx.
      const plain = await send(def);
      const unavailable = plain.statusCode === 503 && JSON.parse(plain.body).error === 'unavailable';
      const noServerError = (r: { statusCode: number; body: string }, what: string) =>
        assert.ok(
          r.statusCode < 500 || (unavailable && r.statusCode === 503 && r.body === plain.body),
          `${what} → ${r.statusCode} ${r.body}`,
        );
      noServerError(plain, key);
      const unknown = await send(def, { url: urlWith(def, { ...base, zz_unknown: '1' }) });
      if (def.query) {
        assertClientError(unknown, key, 400);
        assert.deepEqual(fieldNames(unknown), ['query.zz_unknown']);
      } else noServerError(unknown, `${key} zz_unknown`);
      const qs = def.query ? Object.keys(queryShape(def)) : ['x'];
      for (const name of qs) {
        const hostile = [...HOSTILE_STRINGS, 'x'.repeat(5000)];
        if (PATH_FIELDS.has(name)) hostile.push(...PATH_TRICKS);
        for (const h of hostile) {
          const r = await send(def, { url: urlWith(def, { ...base, [name]: h }) });
          noServerError(r, `${key} ${name}=${JSON.stringify(h)}`);
          if (PATH_FIELDS.has(name)) assertPathAnswer(key, `query.${name}`, h, r);
        }
        const { [name]: _, ...rest } = base;
        const twice = await send(def, { url: urlWith(def, rest, `${name}=1&${name}=2`) });
        noServerError(twice, `${key} ${name} twice`);
        if (def.query) assertClientError(twice, `${key} ${name} twice`, 400);
      }
      assert.deepEqual(snapshot(), before);
    });
  }
});

test('after all of it the admin still logs in and the configuration is unchanged', async () => {
  // The wrong current passwords above count against the admin account, as a guessing attack would.
  kit.cell.deps.auth.limits.forget('admin');
  const s = await login(kit.app, 'admin', ADMIN_PASSWORD);
  const r = await kit.app.inject({ url: '/api/config', headers: authed(s) });
  assert.equal(r.statusCode, 200);
  assert.equal(r.json().identity.cell_name, 'home');
});

describe('every raw-body endpoint', () => {
  for (const def of rawWrites) {
    const key = `${def.method} ${def.url}`;
    test(`${key}: JSON → 415, oversized → 413, bad query → 400, nothing stored`, async () => {
      const before = snapshot();
      // A route without a query schema is still sent a name (it must not matter).
      const base = def.query ? sampleQuery(def) : { name: 'x.txt' };
      const url = urlWith(def, base);
      const json = await send(def, { url, payload: { a: 1 } });
      assertClientError(json, `${key} JSON`, 415);
      const max = def.rawBody!.maxBytes;
      if (!QUOTA_CAPPED.has(key)) {
        const big = await send(def, {
          url,
          headers: { 'content-type': 'application/octet-stream' },
          payload: Buffer.alloc((def.rawBody!.stream ? STREAM_CAP : max) + 1, 'a'),
        });
        assertClientError(big, `${key} oversized`, 413);
      }
      // A declared length over the route's limit is refused before a byte is read.
      const declared = await send(def, {
        url,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(max + 1) },
        payload: Buffer.alloc(16, 'a'),
      });
      assertClientError(declared, `${key} declared ${max + 1} bytes`, 413);
      if (def.query) {
        const unknown = await send(def, {
          url: urlWith(def, { ...base, zz_unknown: '1' }),
          headers: { 'content-type': 'text/plain' },
          payload: 'x.example\n',
        });
        assertClientError(unknown, `${key} zz_unknown`, 400);
        assert.deepEqual(fieldNames(unknown), ['query.zz_unknown']);
      }
      for (const name of def.query ? Object.keys(queryShape(def)) : ['name']) {
        const hostile = PATH_FIELDS.has(name)
          ? [...HOSTILE_STRINGS, ...PATH_TRICKS]
          : HOSTILE_STRINGS.filter((s) => /[^A-Za-z0-9._() -]/.test(s) || !s.trim());
        for (const h of hostile) {
          const r = await send(def, {
            url: urlWith(def, { ...base, [name]: h }),
            headers: { 'content-type': 'text/plain' },
            payload: 'x.example\n',
          });
          if (PATH_FIELDS.has(name)) assertPathAnswer(key, `query.${name}`, h, r);
          else assertClientError(r, `${key} ${name}=${JSON.stringify(h)}`, 400);
        }
      }
      assert.deepEqual(snapshot(), before);
    });
  }
});

test('every hostile string has a verdict for path fields', () => {
  assert.deepEqual([...PATH_VERDICT.keys()].sort(), [...HOSTILE_STRINGS].sort());
});
