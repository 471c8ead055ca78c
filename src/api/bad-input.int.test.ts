// Bad input for every endpoint in allRoutes: malformed JSON, wrong types, oversized bodies, unknown
// fields and hostile strings. Each must answer 4xx with the usual error shape (never 5xx), and none may
// change the stored state. A new route is covered automatically; give it a BASE body below when an
// empty body would stop it before the interesting checks.
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

/** Routes whose success with any valid body harms nothing (a backup only adds a file). */
const HARMLESS_SUCCESS = new Set(['POST /api/config/backup']);

/** A streamed upload is held to the cell's own cap as it is read (16 GiB by default: too big to send here). */
const STREAM_CAP = 1024 * 1024;

let kit: Kit;
let admin: Login;
let addr = 0;
/** Each request from its own address, so login rate limits do not mask the validation answers. */
const nextAddress = () => {
  addr++;
  return `10.${(addr >> 16) & 255}.${(addr >> 8) & 255}.${addr & 255}`;
};

before(async () => {
  kit = await makeKit({}, { backup: { uploadMaxBytes: STREAM_CAP } });
  admin = await completeSetup(kit);
});
after(() => kit.close());
// POST /api/auth/logout ends the session it is sent with: start each test with a live one.
beforeEach(async () => {
  const me = await kit.app.inject({ url: '/api/auth/me', headers: { cookie: admin.cookie } });
  if (me.statusCode !== 200) admin = await login(kit.app, 'admin', ADMIN_PASSWORD);
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

function send(def: RouteDef, extra: Partial<InjectOptions>) {
  const url = sampleUrl(def);
  return kit.app.inject({
    method: def.method,
    url,
    headers: authed(admin),
    remoteAddress: nextAddress(),
    ...extra,
  } as InjectOptions);
}

function assertClientError(res: { statusCode: number; body: string }, what: string, want?: number): void {
  if (want) assert.equal(res.statusCode, want, `${what}: ${res.body}`);
  assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${what} → ${res.statusCode} ${res.body}`);
  const body = JSON.parse(res.body);
  assert.equal(typeof body.error, 'string', what);
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
          headers: { ...authed(admin), 'content-type': 'application/json' },
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
        headers: { ...authed(admin), 'content-type': 'application/json' },
        payload: big,
      });
      assertClientError(r, key, 413);
      const huge = await send(def, {
        headers: { ...authed(admin), 'content-type': 'application/json' },
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
          headers: { ...authed(admin), 'content-type': 'application/json' },
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
          headers: { ...authed(admin), 'content-type': 'application/json' },
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
      const unknown = await send(def, { url: `${def.url}?zz_unknown=1` });
      if (def.query) {
        assertClientError(unknown, key, 400);
        assert.deepEqual(fieldNames(unknown), ['query.zz_unknown']);
      } else assert.ok(unknown.statusCode < 500);
      const qs = def.query ? Object.keys((def.query as unknown as { shape: object }).shape) : ['x'];
      for (const name of qs) {
        for (const h of [...HOSTILE_STRINGS, 'x'.repeat(5000)]) {
          const r = await send(def, { url: `${def.url}?${name}=${encodeURIComponent(h)}` });
          assert.ok(r.statusCode < 500, `${key} ${name}=${JSON.stringify(h)} → ${r.statusCode}`);
        }
        const twice = await send(def, { url: `${def.url}?${name}=1&${name}=2` });
        assert.ok(twice.statusCode < 500, `${key} ${name} twice`);
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
      const url = `${def.url}?name=x.txt`;
      const json = await send(def, { url, payload: { a: 1 } });
      assertClientError(json, `${key} JSON`, 415);
      const big = await send(def, {
        url,
        headers: { ...authed(admin), 'content-type': 'application/octet-stream' },
        payload: Buffer.alloc((def.rawBody!.stream ? STREAM_CAP : def.rawBody!.maxBytes) + 1, 'a'),
      });
      assertClientError(big, `${key} oversized`, 413);
      for (const h of HOSTILE_STRINGS.filter((s) => /[^A-Za-z0-9._() -]/.test(s) || !s.trim())) {
        const r = await send(def, {
          url: `${def.url}?name=${encodeURIComponent(h)}`,
          headers: { ...authed(admin), 'content-type': 'text/plain' },
          payload: 'x.example\n',
        });
        assertClientError(r, `${key} name=${JSON.stringify(h)}`, 400);
      }
      assert.deepEqual(snapshot(), before);
    });
  }
});
