// The manifest's shape: values that could inject a line, a path or an option are refused with the
// field's path; remote images only by digest; the password never in argv. The JSON Schema handed to
// service authors is a golden file (UPDATE_GOLDEN=1, or `npm run gen:store-schema`, rewrites it).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { HOSTILE_STRINGS } from './hostile.ts';
import { parseServiceManifest, serviceManifestJsonSchema } from './service-manifest.ts';

const GOLDEN = join(import.meta.dirname, '..', '..', 'docs', 'store', 'service-manifest.schema.json');
const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

function valid() {
  return {
    schema_version: 1,
    id: 'calendar',
    name: 'Calendar and Contacts',
    description: 'CalDAV and CardDAV',
    version: '3.1.8-1',
    kind: 'app',
    containers: [
      {
        name: 'radicale',
        image: { build: '.' },
        environment: { TZ: 'UTC' } as Record<string, string>,
        volumes: [{ name: 'collections', path: '/var/lib/radicale' }],
        healthcheck: { test: ['/usr/local/bin/health'], interval_s: 30, timeout_s: 5, retries: 3 },
      },
    ],
    http_routes: [{ subdomain: 'calendar', container: 'radicale', port: 5232 }],
    accounts: {
      container: 'radicale',
      add: ['pic-account', 'add', '{username}'],
      remove: ['pic-account', 'remove', '{username}'],
      list: ['pic-account', 'list'],
    },
    backup_volumes: ['collections'],
  };
}
type Manifest = ReturnType<typeof valid>;

function problemsOf(change: (m: Manifest) => void): { path: string; message: string }[] {
  const m = structuredClone(valid()) as Manifest;
  change(m);
  const r = parseServiceManifest(m);
  return r.ok ? [] : r.problems;
}

function assertRefusedAt(change: (m: Manifest) => void, path: string, message?: RegExp): void {
  const problems = problemsOf(change);
  const hit = problems.find((p) => p.path === path);
  assert.ok(hit, `expected a problem at ${path}, got ${JSON.stringify(problems)}`);
  if (message) assert.match(hit.message, message);
}

test('a valid manifest parses', () => {
  assert.deepEqual(
    problemsOf(() => {}),
    [],
  );
});

test('hostile strings are refused in every name a config is built from, at their path', () => {
  const c = (m: Manifest) => m.containers[0]!;
  const fields: Array<[string, (m: Manifest, v: string) => void]> = [
    ['id', (m, v) => void Object.assign(m, { id: v })],
    ['containers.0.name', (m, v) => void Object.assign(c(m), { name: v })],
    ['containers.0.image.build', (m, v) => void Object.assign(c(m), { image: { build: v } })],
    ['containers.0.volumes.0.name', (m, v) => void Object.assign(c(m).volumes[0]!, { name: v })],
    ['containers.0.volumes.0.path', (m, v) => void Object.assign(c(m).volumes[0]!, { path: v })],
    ['http_routes.0.subdomain', (m, v) => void Object.assign(m.http_routes[0]!, { subdomain: v })],
    ['backup_volumes.0', (m, v) => void Object.assign(m, { backup_volumes: [v] })],
  ];
  // Absolute paths are what a volume path is; the others (no `..`) are still hostile there.
  const allowedAsPath = new Set(['/etc/passwd']);
  for (const [path, set] of fields)
    for (const v of HOSTILE_STRINGS) {
      if (path.endsWith('.path') && allowedAsPath.has(v)) continue;
      assertRefusedAt((m) => set(m, v), path);
    }
});

test('newlines and NUL are refused in environment values, argv and names', () => {
  for (const bad of ['a\nb', 'a\0b', 'a\rb']) {
    assertRefusedAt((m) => {
      m.containers[0]!.environment = { TZ: bad };
    }, 'containers.0.environment.TZ');
    assertRefusedAt((m) => {
      m.containers[0]!.healthcheck.test = [bad];
    }, 'containers.0.healthcheck.test.0');
    assertRefusedAt((m) => {
      m.name = bad;
    }, 'name');
  }
  assertRefusedAt((m) => {
    m.containers[0]!.environment = { 'A-B': 'x' };
  }, 'containers.0.environment.A-B');
});

test('volume paths must be absolute and normalised', () => {
  for (const bad of ['var/lib', '/var/../etc', '/var/./lib', '/var//lib', '/var/lib/', '/', '/a b'])
    assertRefusedAt((m) => {
      m.containers[0]!.volumes[0]!.path = bad;
    }, 'containers.0.volumes.0.path');
});

test('a remote image only by digest, with an explicit registry host', () => {
  const set = (ref: string) => (m: Manifest) => {
    m.containers[0]!.image = { ref } as never;
  };
  for (const ok of [
    `registry.example.org/pic/calendar@${DIGEST}`,
    `registry.example.org:5000/pic/cal-dav_x@${DIGEST}`,
    `localhost:5000/calendar@${DIGEST}`,
  ])
    assert.deepEqual(problemsOf(set(ok)), [], ok);
  for (const bad of [
    'registry.example.org/pic/calendar:latest',
    'registry.example.org/pic/calendar:3.1@sha256:abc',
    `pic/calendar@${DIGEST}`,
    `calendar@${DIGEST}`,
    `registry.example.org/pic/calendar@sha256:${'A'.repeat(64)}`,
    `registry.example.org/pic/calendar@sha512:${'a'.repeat(128)}`,
    `https://registry.example.org/pic/calendar@${DIGEST}`,
    `registry.example.org/../calendar@${DIGEST}`,
  ])
    assertRefusedAt(set(bad), 'containers.0.image.ref', /digest/);
  assertRefusedAt((m) => {
    m.containers[0]!.image = { build: '.', ref: 'x' } as never;
  }, 'containers.0.image');
});

test('account hooks: {username} as a whole argv item, the password never in argv', () => {
  const a = (m: Manifest) => m.accounts;
  assertRefusedAt(
    (m) => {
      a(m).add = ['x', '{username}', '{password}'];
    },
    'accounts.add.2',
    /stdin/,
  );
  assertRefusedAt(
    (m) => {
      a(m).add = ['x', '--password={password}', '{username}'];
    },
    'accounts.add.1',
    /stdin/,
  );
  assertRefusedAt(
    (m) => {
      a(m).add = ['x', '--user={username}'];
    },
    'accounts.add.1',
    /whole argv item/,
  );
  assertRefusedAt((m) => {
    a(m).add = ['x', '{home}', '{username}'];
  }, 'accounts.add.1');
  assertRefusedAt(
    (m) => {
      a(m).remove = ['x'];
    },
    'accounts.remove',
    /\{username\}/,
  );
  assertRefusedAt((m) => {
    a(m).list = ['x', '{username}'];
  }, 'accounts.list');
});

test('unknown keys are refused at every level, by name', () => {
  const r = parseServiceManifest({ ...valid(), extra: 1 });
  assert.ok(!r.ok && r.problems.some((p) => p.path === '(manifest)' && /extra/.test(p.message)));
  assertRefusedAt((m) => void Object.assign(m.containers[0]!, { binds: ['/:/host'] }), 'containers.0');
  assertRefusedAt(
    (m) => void Object.assign(m.containers[0]!.volumes[0]!, { host: '/' }),
    'containers.0.volumes.0',
  );
});

test('core names are refused as ids; the schema version is 1; list sizes are bounded', () => {
  for (const id of ['api', 'caddy', 'dns', 'ntp', 'wireguard', 'webui', 'cell', 'a'])
    assertRefusedAt((m) => {
      m.id = id;
    }, 'id');
  assertRefusedAt((m) => {
    m.schema_version = 2;
  }, 'schema_version');
  assertRefusedAt((m) => {
    m.containers = [];
  }, 'containers');
  assertRefusedAt((m) => {
    m.containers = Array.from({ length: 9 }, (_, i) => ({ ...m.containers[0]!, name: `c${i}` }));
  }, 'containers');
  const env = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`V${i}`, 'x']));
  assertRefusedAt((m) => {
    m.containers[0]!.environment = env;
  }, 'containers.0.environment');
  assertRefusedAt((m) => {
    m.version = 'latest';
  }, 'version');
});

test('the JSON Schema for service authors matches its golden file (UPDATE_GOLDEN=1 regenerates)', () => {
  const text = `${JSON.stringify(serviceManifestJsonSchema(), null, 2)}\n`;
  if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN, text);
  assert.equal(text, readFileSync(GOLDEN, 'utf8'), 'docs/store/service-manifest.schema.json is stale');
});
