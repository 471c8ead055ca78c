// The runtime of a store service's manifest hooks with fake ports: settings (stored, secrets kept out
// of answers, apply's stdin, a failed apply), status, DNS records (collected, refused whole, served,
// checked outside), and certificates (local leaf, public ACME copy, renewal and reload).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseServiceManifest, type ServiceManifest } from '../../schema/service-manifest.ts';
import { AppError } from '../errors.ts';
import type { HookLimits, HookRunner } from '../ports/service-accounts.ts';
import type {
  ServiceDnsRecordRow,
  ServiceDnsRecordsRepository,
  ServiceFile,
  ServiceSettingsRepository,
  ServiceSettingsRow,
  ServiceTlsRepository,
  ServiceTlsState,
} from '../ports/service-hooks.ts';
import type { InstalledService, InstalledServicesRepository } from '../ports/service-store.ts';
import { hookTargets } from './hook-targets.ts';
import { ServiceDnsRecords } from './service-dns-records.ts';
import { ServiceSettingsService } from './service-settings.ts';
import { type CertAndKey, coversName, ServiceTls } from './service-tls.ts';

function manifest(over: Record<string, unknown> = {}): ServiceManifest {
  const r = parseServiceManifest({
    schema_version: 1,
    id: 'email',
    name: 'Email',
    description: 'Mail',
    version: '1.0.0',
    kind: 'app',
    containers: [
      {
        name: 'mail',
        image: { build: '.' },
        user: '101:102',
        volumes: [
          { name: 'tls', path: '/etc/pic-tls' },
          { name: 'data', path: '/var/mail' },
        ],
      },
    ],
    dns_names: ['mail'],
    tls: { container: 'mail', volume: 'tls', certificate: true, reload: ['pic-mail-reload'] },
    dns_records: { container: 'mail', list: ['pic-mail-records'] },
    settings: {
      container: 'mail',
      apply: ['pic-mail-apply'],
      fields: [
        { key: 'smarthost_host', type: 'host', label: 'Smarthost' },
        { key: 'smarthost_port', type: 'port', label: 'Port', default: 587 },
        { key: 'smarthost_password', type: 'secret', label: 'Password' },
        { key: 'quota_mb', type: 'integer', label: 'Quota', min: 10, max: 1048576, default: 1024 },
        { key: 'aliases', type: 'aliases', label: 'Aliases' },
      ],
    },
    status: { container: 'mail', command: ['pic-mail-status'] },
    ...over,
  });
  assert.ok(r.ok, JSON.stringify(r));
  return r.manifest;
}

function installed(
  m: ServiceManifest,
  state: InstalledService['state'] = 'running',
): InstalledServicesRepository {
  const row: InstalledService = {
    id: m.id,
    version: m.version,
    state,
    virtualIp: '172.20.0.64',
    images: {},
    manifest: m,
    installedAt: '2026-01-01T00:00:00.000Z',
    lastError: undefined,
  };
  return {
    list: () => [row],
    get: (id) => (id === m.id ? row : undefined),
    put: () => {},
    setState: () => {},
    remove: () => {},
  };
}

interface Call {
  container: string;
  argv: string[];
  stdin: string | undefined;
  limits: HookLimits | undefined;
}

function fakeHooks(
  answer: (argv: string[], stdin?: string) => { exitCode: number; stdout: string; stderr: string },
) {
  const calls: Call[] = [];
  const hooks: HookRunner = {
    run: async (container, argv, stdin, limits) => {
      calls.push({ container, argv, stdin, limits });
      return answer(argv, stdin);
    },
  };
  return { hooks, calls };
}

const ok = (stdout = '') => ({ exitCode: 0, stdout, stderr: '' });

class SettingsRepo implements ServiceSettingsRepository {
  rows = new Map<string, ServiceSettingsRow>();
  get = (id: string) => structuredClone(this.rows.get(id));
  put = (id: string, row: ServiceSettingsRow) => void this.rows.set(id, structuredClone(row));
}

const targetsFor = (m: ServiceManifest, state: InstalledService['state'] = 'running') =>
  hookTargets({
    repo: installed(m, state),
    prefix: () => 't-',
    known: (id) => id === m.id || id === 'files',
  });

const isCode = (code: string) => (e: unknown) => e instanceof AppError && e.code === code;

describe('ServiceSettingsService', () => {
  const setup = (answer = (_a: string[], _s?: string) => ok(), m = manifest()) => {
    const repo = new SettingsRepo();
    const { hooks, calls } = fakeHooks(answer);
    const s = new ServiceSettingsService({
      repo,
      targets: targetsFor(m),
      hooks,
      accounts: () => ['alice', 'bob'],
    });
    return { s, repo, calls };
  };

  test('a fresh service: defaults, no secret set, not applied', async () => {
    const { s } = setup();
    const v = await s.get('email');
    assert.deepEqual(v.values, { smarthost_host: null, smarthost_port: 587, quota_mb: 1024, aliases: null });
    assert.deepEqual(v.secrets_set, { smarthost_password: false });
    assert.equal(v.applied, false);
    assert.equal(v.apply_error, null);
    assert.equal(v.fields.length, 5);
  });

  test('PUT stores, runs apply with every value as one JSON object on stdin, and never returns a secret', async () => {
    const { s, calls } = setup();
    const v = await s.put('email', {
      values: {
        smarthost_host: 'smtp.example.org',
        smarthost_password: 's3cret-pass',
        aliases: [{ alias: 'info', to: 'alice' }],
      },
    });
    assert.equal(v.applied, true);
    assert.deepEqual(v.secrets_set, { smarthost_password: true });
    assert.ok(!JSON.stringify(v).includes('s3cret-pass'));
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.container, 't-cell-email_mail');
    assert.deepEqual(calls[0]!.argv, ['pic-mail-apply']);
    assert.ok(calls[0]!.limits);
    assert.deepEqual(JSON.parse(calls[0]!.stdin!), {
      smarthost_host: 'smtp.example.org',
      smarthost_port: 587,
      smarthost_password: 's3cret-pass',
      quota_mb: 1024,
      aliases: [{ alias: 'info', to: 'alice' }],
    });
    // Absent keeps, null clears.
    await s.put('email', { values: { quota_mb: 2048 } });
    assert.equal(JSON.parse(calls[1]!.stdin!).smarthost_password, 's3cret-pass');
    await s.put('email', { values: { smarthost_password: null, smarthost_host: null } });
    const last = JSON.parse(calls[2]!.stdin!);
    assert.equal(last.smarthost_password, null);
    assert.equal(last.smarthost_host, null);
    assert.equal(last.quota_mb, 2048);
    assert.deepEqual((await s.get('email')).secrets_set, { smarthost_password: false });
  });

  test('a failed apply keeps the values, answers applied false with a bounded message without the secret', async () => {
    const { s, repo } = setup((_argv, stdin) => ({
      exitCode: 3,
      stdout: '',
      stderr: `first line\nrefused: password ${JSON.parse(stdin!).smarthost_password} is wrong ${'x'.repeat(500)}`,
    }));
    const v = await s.put('email', { values: { smarthost_password: 'hunter2-secret' } });
    assert.equal(v.applied, false);
    assert.ok(v.apply_error);
    assert.ok(!v.apply_error.includes('hunter2-secret'), v.apply_error);
    assert.ok(v.apply_error.length <= 300);
    assert.match(v.apply_error, /refused: password \[secret\] is wrong/);
    assert.deepEqual(repo.get('email')!.secrets, { smarthost_password: 'hunter2-secret' });
    assert.equal((await s.get('email')).apply_error, v.apply_error);
  });

  test('a bad value is a 400 naming values.<key>; nothing is stored or applied', async () => {
    const { s, repo, calls } = setup();
    await assert.rejects(
      () => s.put('email', { values: { smarthost_host: 'a\nb', relay: 1 } }),
      (e: unknown) =>
        e instanceof AppError &&
        e.code === 'validation_failed' &&
        JSON.stringify(e.fields?.map((f) => f.field)) === '["values.smarthost_host","values.relay"]',
    );
    assert.equal(repo.rows.size, 0);
    assert.equal(calls.length, 0);
  });

  test('unknown service 404; known but not installed 409; no settings 409', async () => {
    const { s } = setup();
    await assert.rejects(() => s.get('nosuch'), isCode('not_found'));
    await assert.rejects(() => s.get('files'), isCode('conflict'));
    const bare = new ServiceSettingsService({
      repo: new SettingsRepo(),
      targets: targetsFor(manifest({ settings: undefined })),
      hooks: fakeHooks(() => ok()).hooks,
      accounts: () => [],
    });
    await assert.rejects(() => bare.get('email'), isCode('conflict'));
    const failed = new ServiceSettingsService({
      repo: new SettingsRepo(),
      targets: targetsFor(manifest(), 'failed'),
      hooks: fakeHooks(() => ok()).hooks,
      accounts: () => [],
    });
    await assert.rejects(() => failed.get('email'), isCode('conflict'));
  });

  test('after a start, apply runs with what is stored (unset = null)', async () => {
    const { s, calls } = setup();
    await s.afterStart(manifest());
    assert.equal(calls.length, 1);
    assert.equal(JSON.parse(calls[0]!.stdin!).smarthost_password, null);
    assert.equal((await s.get('email')).applied, true);
  });

  test('status: the JSON object, or why there is none', async () => {
    let out = ok('{"queue":[],"smarthost":null}');
    const { s, calls } = setup(() => out);
    assert.deepEqual(await s.status('email'), { status: { queue: [], smarthost: null }, error: null });
    assert.equal(calls[0]!.limits!.maxBytes, 256 * 1024);
    assert.equal(calls[0]!.limits!.timeoutMs, 10_000);
    out = ok('[1,2]');
    assert.match((await s.status('email')).error!, /JSON object/);
    out = ok('not json');
    assert.match((await s.status('email')).error!, /JSON/);
    out = { exitCode: 1, stdout: '', stderr: 'postqueue: fatal\n' };
    assert.match((await s.status('email')).error!, /postqueue: fatal/);
    const big = new ServiceSettingsService({
      repo: new SettingsRepo(),
      targets: targetsFor(manifest()),
      hooks: { run: () => Promise.reject(new Error('its output exceeded 262144 bytes')) },
      accounts: () => [],
    });
    assert.deepEqual(await big.status('email'), {
      status: null,
      error: 'the status hook could not run: its output exceeded 262144 bytes',
    });
  });
});

class RecordsRepo implements ServiceDnsRecordsRepository {
  rows: ServiceDnsRecordRow[] = [];
  list = () => [...this.rows];
  ofService = (id: string) => this.rows.filter((r) => r.serviceId === id);
  replace = (id: string, rows: readonly Omit<ServiceDnsRecordRow, 'serviceId'>[]) => {
    this.rows = [
      ...this.rows.filter((r) => r.serviceId !== id),
      ...rows.map((r) => ({ ...r, serviceId: id })),
    ];
  };
  remove = (id: string) => {
    this.rows = this.rows.filter((r) => r.serviceId !== id);
  };
}

describe('ServiceDnsRecords', () => {
  const MAIL = [
    { name: '@', type: 'MX', value: '10 mail.home.cell.' },
    { name: '@', type: 'TXT', value: 'v=spf1 mx -all' },
    { name: '_dmarc', type: 'TXT', value: 'v=DMARC1; p=quarantine' },
  ];
  const setup = (opts: { public?: boolean; answers?: Record<string, string[]> } = {}) => {
    let out = JSON.stringify(MAIL);
    const { hooks, calls } = fakeHooks(() => ok(out));
    const repo = new RecordsRepo();
    let applies = 0;
    const logs: string[] = [];
    const asked: string[][] = [];
    const r = new ServiceDnsRecords({
      repo,
      targets: targetsFor(manifest()),
      hooks,
      zone: {
        domain: () => 'home.cell',
        isPublic: () => opts.public ?? false,
        forwarders: () => ['127.0.0.1'],
        served: () => repo.list().filter((x) => x.type !== 'MX'),
        apply: async () => void applies++,
      },
      publicDns: {
        lookup: async (servers, fqdn, type) => {
          asked.push([...servers]);
          const a = opts.answers?.[`${fqdn} ${type}`];
          if (!a) throw new Error('timeout');
          return a;
        },
      },
      log: (_l, f, msg) => void logs.push(`${msg} ${JSON.stringify(f)}`),
    });
    return { r, repo, calls, logs, asked, applies: () => applies, set: (s: string) => (out = s) };
  };

  test('after a start: listed, checked, stored and applied to the zone', async () => {
    const t = setup();
    await t.r.afterStart(manifest());
    assert.deepEqual(t.calls[0]!.argv, ['pic-mail-records']);
    assert.equal(t.calls[0]!.limits!.maxBytes, 64 * 1024);
    assert.deepEqual(
      t.repo.rows.map((r) => [r.name, r.type, r.value]),
      [
        ['@', 'MX', '10 mail.home.cell'],
        ['@', 'TXT', 'v=spf1 mx -all'],
        ['_dmarc', 'TXT', 'v=DMARC1; p=quarantine'],
      ],
    );
    assert.equal(t.applies(), 1);
    const list = await t.r.list('email');
    assert.deepEqual(list.records[0], {
      name: '@',
      fqdn: 'home.cell.',
      type: 'MX',
      value: '10 mail.home.cell',
      in_zone: false,
      public: 'unchecked',
    });
    assert.equal(list.records[2]!.fqdn, '_dmarc.home.cell.');
    assert.equal(list.records[2]!.in_zone, true);
    assert.equal(t.asked.length, 0, 'local mode asks nobody');
  });

  test('a bad record refuses the list whole: what was stored stays, the reason is logged', async () => {
    const t = setup();
    await t.r.afterStart(manifest());
    t.set(JSON.stringify([...MAIL, { name: 'www', type: 'TXT', value: 'x' }]));
    await t.r.afterStart(manifest());
    assert.equal(t.repo.rows.length, 3);
    assert.match(t.logs.at(-1)!, /refused.*record 3\.name: www/);
    t.set('x'.repeat(10));
    await t.r.afterStart(manifest());
    assert.match(t.logs.at(-1)!, /not JSON/);
    assert.equal(t.applies(), 1);
  });

  test('public mode: each record asked of the forwarders: match, differs, missing, unchecked', async () => {
    const t = setup({
      public: true,
      answers: {
        'home.cell MX': ['10 mail.home.cell'],
        'home.cell TXT': ['v=spf1 -all'],
        '_dmarc.home.cell TXT': [],
      },
    });
    await t.r.afterStart(manifest());
    const states = (await t.r.list('email')).records.map((r) => r.public);
    assert.deepEqual(states, ['match', 'differs', 'missing']);
    assert.deepEqual(t.asked[0], ['127.0.0.1']);
    t.repo.rows.push({ serviceId: 'email', name: '_x', type: 'TXT', value: 'y', ttl: 1 });
    assert.equal((await t.r.list('email')).records.at(-1)!.public, 'unchecked');
  });

  test('uninstall removes them and applies the zone', async () => {
    const t = setup();
    await t.r.afterStart(manifest());
    await t.r.removed('email');
    assert.equal(t.repo.rows.length, 0);
    assert.equal(t.applies(), 2);
  });
});

class TlsRepo implements ServiceTlsRepository {
  rows = new Map<string, ServiceTlsState>();
  get = (id: string) => this.rows.get(id);
  put = (s: ServiceTlsState) => void this.rows.set(s.serviceId, s);
  remove = (id: string) => void this.rows.delete(id);
}

describe('ServiceTls', () => {
  const DAY = 86_400_000;
  const setup = (opts: { public?: boolean; acmeNames?: string[] } = {}) => {
    let now = new Date('2026-06-01T00:00:00Z');
    let domain = 'home.cell';
    const writes: Array<{
      id: string;
      volume: string;
      files: ServiceFile[];
      owner: { uid: number; gid: number };
    }> = [];
    const issued: string[][] = [];
    const { hooks, calls } = fakeHooks(() => ok());
    let serial = 0;
    const issue = async (names: string[], days: number): Promise<CertAndKey> => {
      issued.push(names);
      serial++;
      return {
        certPem: `LEAF${serial}\n`,
        chainPem: 'INTER\nROOT\n',
        keyPem: `KEY${serial}`,
        notAfter: new Date(now.getTime() + days * DAY).toISOString(),
      };
    };
    const repo = new TlsRepo();
    const tls = new ServiceTls({
      files: {
        write: async (id, volume, files, owner) => void writes.push({ id, volume, files: [...files], owner }),
      },
      repo,
      targets: targetsFor(manifest()),
      hooks,
      cell: {
        domain: () => domain,
        isPublic: () => opts.public ?? false,
        caRoot: async () => 'CELL ROOT\n',
        issue,
        acme: async () =>
          opts.acmeNames
            ? {
                certPem: 'ACME LEAF\n',
                chainPem: 'R11\n',
                keyPem: 'ACME KEY\n',
                notAfter: '2026-08-01T00:00:00.000Z',
                names: opts.acmeNames,
                rootPem: 'ISRG ROOT\n',
              }
            : undefined,
      },
      now: () => now,
    });
    return {
      tls,
      repo,
      writes,
      issued,
      calls,
      advance: (days: number) => (now = new Date(now.getTime() + days * DAY)),
      setDomain: (d: string) => (domain = d),
    };
  };
  const byName = (files: ServiceFile[]) => Object.fromEntries(files.map((f) => [f.name, f]));

  test('local mode: a leaf of its own for its names, the key 0600, owned by the container user; no reload before the start', async () => {
    const t = setup();
    await t.tls.beforeStart(manifest());
    assert.deepEqual(t.issued, [['mail.home.cell']]);
    const w = t.writes[0]!;
    assert.equal(w.id, 'email');
    assert.equal(w.volume, 'tls');
    assert.deepEqual(w.owner, { uid: 101, gid: 102 });
    const f = byName(w.files);
    assert.equal(f['ca.pem']!.content, 'CELL ROOT\n');
    assert.equal(f['fullchain.pem']!.content, 'LEAF1\nINTER\nROOT\n');
    assert.equal(f['privkey.pem']!.content, 'KEY1\n');
    assert.equal(f['privkey.pem']!.mode, 0o600);
    assert.equal(t.calls.length, 0);
  });

  test('certificate: false writes ca.pem only; a user by name is root', async () => {
    const t = setup();
    const m = manifest({
      tls: { container: 'mail', volume: 'tls', certificate: false },
      containers: [
        { name: 'mail', image: { build: '.' }, user: 'www-data', volumes: [{ name: 'tls', path: '/t' }] },
      ],
    });
    await t.tls.beforeStart(m);
    assert.deepEqual(
      t.writes[0]!.files.map((f) => f.name),
      ['ca.pem'],
    );
    assert.deepEqual(t.writes[0]!.owner, { uid: 0, gid: 0 });
    assert.equal(t.issued.length, 0);
  });

  test('the tick renews SERVER_RENEW_DAYS before the end, then reloads; a new domain at once', async () => {
    const t = setup();
    await t.tls.beforeStart(manifest());
    await t.tls.tick();
    assert.equal(t.writes.length, 1, 'nothing due');
    t.advance(397 - 31);
    await t.tls.tick();
    assert.equal(t.writes.length, 1);
    t.advance(2);
    await t.tls.tick();
    assert.equal(t.writes.length, 2);
    assert.deepEqual(
      t.calls.map((c) => c.argv),
      [['pic-mail-reload']],
    );
    assert.equal(t.calls[0]!.container, 't-cell-email_mail');
    t.setDomain('other.cell');
    await t.tls.tick();
    assert.deepEqual(t.issued.at(-1), ['mail.other.cell']);
    assert.equal(t.calls.length, 2);
  });

  test('public mode: the ACME certificate when its wildcard covers the names, with the root of its chain', async () => {
    const t = setup({ public: true, acmeNames: ['example.org', '*.example.org'] });
    t.setDomain('example.org');
    await t.tls.beforeStart(manifest());
    const f = byName(t.writes[0]!.files);
    assert.equal(f['ca.pem']!.content, 'ISRG ROOT\n');
    assert.equal(f['fullchain.pem']!.content, 'ACME LEAF\nR11\n');
    assert.equal(f['privkey.pem']!.mode, 0o600);
    assert.equal(t.issued.length, 0);
    assert.equal(t.repo.get('email')!.source, 'acme');
  });

  test('public mode without a covering certificate: ca.pem only, and the tick waits', async () => {
    const t = setup({ public: true, acmeNames: ['example.org'] });
    t.setDomain('example.org');
    await t.tls.beforeStart(manifest());
    assert.deepEqual(
      t.writes[0]!.files.map((f) => f.name),
      ['ca.pem'],
    );
    assert.equal(t.repo.get('email')!.source, 'none');
    await t.tls.tick();
    assert.equal(t.writes.length, 1);
  });

  test('coversName: exact names and one-label wildcards', () => {
    assert.ok(coversName(['*.example.org'], 'mail.example.org'));
    assert.ok(!coversName(['*.example.org'], 'a.mail.example.org'));
    assert.ok(!coversName(['example.org'], 'mail.example.org'));
    assert.ok(coversName(['mail.example.org'], 'mail.example.org'));
  });
});
