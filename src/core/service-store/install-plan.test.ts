// The install/uninstall planner: dependencies first and transitively, cycles and unknown ids refused
// by name, uninstalling a service others need refused by name, and nothing to do when it is done.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { desiredState } from '../../render/runtime/desired-state.ts';
import { defaultConfig } from '../../schema/config.ts';
import type { ServiceManifest } from '../../schema/service-manifest.ts';
import { AppError, STATUS_BY_CODE } from '../errors.ts';
import { coreHeldPorts } from './held-ports.ts';
import { type PlanStep, planServiceChange } from './install-plan.ts';

function svc(id: string, requires?: string[], extra: Partial<ServiceManifest> = {}): ServiceManifest {
  return {
    schema_version: 1,
    id,
    name: id,
    description: `the ${id} service`,
    version: '1.0.0',
    kind: 'app',
    ...(requires ? { requires } : {}),
    containers: [{ name: 'app', image: { build: '.' } }],
    ...extra,
  };
}

const catalog = [
  svc('email'),
  svc('webmail', ['email']),
  svc('dirsrv'),
  svc('groupware', ['webmail', 'dirsrv']),
  svc('calendar'),
];
const ids = (steps: PlanStep[]) => steps.map((s) => `${s.action} ${s.id}`);
const byId = (id: string) => catalog.find((m) => m.id === id)!;

/** Asserts the call throws an AppError with this code (and so this HTTP status) and message. */
function refuses(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AppError, String(e));
    assert.equal(e.code, code);
    assert.equal(e.status, STATUS_BY_CODE[code as keyof typeof STATUS_BY_CODE]);
    assert.match(e.message, message);
    return true;
  });
}

test('install: a service without requirements is one step', () => {
  const steps = planServiceChange({ catalog, installed: [], request: { action: 'install', id: 'calendar' } });
  assert.deepEqual(ids(steps), ['install calendar']);
  assert.equal(steps[0]!.action === 'install' && steps[0]!.reason, 'requested');
});

test('install: requirements first, transitively, in `requires` order', () => {
  const steps = planServiceChange({
    catalog,
    installed: [],
    request: { action: 'install', id: 'groupware' },
  });
  assert.deepEqual(ids(steps), ['install email', 'install webmail', 'install dirsrv', 'install groupware']);
  const reasons = steps.map((s) => (s.action === 'install' ? s.reason : undefined));
  assert.deepEqual(reasons, [
    { requiredBy: 'webmail' },
    { requiredBy: 'groupware' },
    { requiredBy: 'groupware' },
    'requested',
  ]);
});

test('install: a requirement shared by two paths is installed once', () => {
  const cat = [svc('a', ['b', 'c']), svc('b', ['d']), svc('c', ['d']), svc('d')];
  const steps = planServiceChange({ catalog: cat, installed: [], request: { action: 'install', id: 'a' } });
  assert.deepEqual(ids(steps), ['install d', 'install b', 'install c', 'install a']);
});

test('install: what is installed is no step; an installed service is an empty plan', () => {
  const installed = [byId('email')];
  assert.deepEqual(
    ids(planServiceChange({ catalog, installed, request: { action: 'install', id: 'webmail' } })),
    ['install webmail'],
  );
  assert.deepEqual(
    planServiceChange({
      catalog,
      installed: [byId('email'), byId('webmail')],
      request: { action: 'install', id: 'webmail' },
    }),
    [],
  );
});

test('install: an installed service missing a requirement gets it back', () => {
  const steps = planServiceChange({
    catalog,
    installed: [byId('webmail')],
    request: { action: 'install', id: 'webmail' },
  });
  assert.deepEqual(ids(steps), ['install email']);
});

test('install: an unknown id is 404 naming it, and naming who requires it', () => {
  refuses(
    () => planServiceChange({ catalog, installed: [], request: { action: 'install', id: 'nope' } }),
    'not_found',
    /^service nope is not in the catalog$/,
  );
  const cat = [svc('a', ['b']), svc('b', ['ghost'])];
  refuses(
    () => planServiceChange({ catalog: cat, installed: [], request: { action: 'install', id: 'a' } }),
    'not_found',
    /^service b requires ghost, which is not in the catalog$/,
  );
});

test('install: a cycle is refused (422) naming the whole cycle, never looping', () => {
  const cat = [svc('a', ['b']), svc('b', ['c']), svc('c', ['a']), svc('x', ['a'])];
  refuses(
    () => planServiceChange({ catalog: cat, installed: [], request: { action: 'install', id: 'x' } }),
    'manifest_refused',
    /cycle: a → b → c → a$/,
  );
  // A service requiring itself (the policy refuses it too, but the planner must not loop on it).
  refuses(
    () =>
      planServiceChange({
        catalog: [svc('s', ['s'])],
        installed: [],
        request: { action: 'install', id: 's' },
      }),
    'manifest_refused',
    /cycle: s → s$/,
  );
});

test('install: with the held ports given, every step is checked by the policy (422, by service)', () => {
  const heldPorts = coreHeldPorts(
    desiredState({ config: defaultConfig(), env: {}, cellDir: '/opt/pic', dockerGid: 999 }),
  );
  const cat = [
    svc('email', undefined, {
      host_ports: [{ proto: 'tcp', port: 587, container: 'app', container_port: 587 }],
    }),
    // Takes the port its own requirement holds: refused although neither is installed yet.
    svc('webmail', ['email'], {
      host_ports: [{ proto: 'tcp', port: 587, container: 'app', container_port: 587 }],
      containers: [{ name: 'app', image: { build: '.' }, privileged: true }],
    }),
  ];
  assert.deepEqual(
    ids(
      planServiceChange({
        catalog: cat,
        installed: [],
        request: { action: 'install', id: 'email' },
        heldPorts,
      }),
    ),
    ['install email'],
  );
  assert.throws(
    () =>
      planServiceChange({
        catalog: cat,
        installed: [],
        request: { action: 'install', id: 'webmail' },
        heldPorts,
      }),
    (e: unknown) => {
      assert.ok(e instanceof AppError);
      assert.equal(e.status, 422);
      assert.equal(e.message, 'the manifest of webmail is refused');
      assert.deepEqual(
        e.fields?.map((f) => f.field),
        ['webmail: containers.0.privileged', 'webmail: host_ports.0.port'],
      );
      assert.match(e.fields?.[1]?.message ?? '', /587\/tcp is held by service email/);
      return true;
    },
  );
});

test('uninstall: one step; nothing to do when not installed; 404 when unknown', () => {
  assert.deepEqual(
    ids(
      planServiceChange({
        catalog,
        installed: [byId('calendar')],
        request: { action: 'uninstall', id: 'calendar' },
      }),
    ),
    ['uninstall calendar'],
  );
  assert.deepEqual(
    planServiceChange({ catalog, installed: [], request: { action: 'uninstall', id: 'calendar' } }),
    [],
  );
  refuses(
    () => planServiceChange({ catalog, installed: [], request: { action: 'uninstall', id: 'nope' } }),
    'not_found',
    /nope is not in the catalog/,
  );
});

test('uninstall: a service an installed one requires is refused (409) naming which', () => {
  const installed = [byId('email'), byId('webmail')];
  refuses(
    () => planServiceChange({ catalog, installed, request: { action: 'uninstall', id: 'email' } }),
    'conflict',
    /^service email is required by webmail \(installed\): uninstall it first$/,
  );
  const both = [svc('base'), svc('one', ['base']), svc('two', ['base'])];
  refuses(
    () => planServiceChange({ catalog: both, installed: both, request: { action: 'uninstall', id: 'base' } }),
    'conflict',
    /required by one, two \(installed\): uninstall them first$/,
  );
  // The dependent goes first, then the requirement is free to go.
  assert.deepEqual(
    ids(planServiceChange({ catalog, installed, request: { action: 'uninstall', id: 'webmail' } })),
    ['uninstall webmail'],
  );
});
