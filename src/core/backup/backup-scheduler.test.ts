// The schedule on a fake clock with an in-memory backup engine and in-memory targets: daily at the
// hour, encrypted, copied everywhere; retention here and on each target (scheduled backups only);
// a failed copy is tried 3 times, shown, audited, logged and retried hourly until the next backup;
// a busy engine delays the run by minutes; stop() leaves no timer, even during a backoff.
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { test } from 'node:test';
import type { BackupTargetSpec, TargetResult } from '../../schema/backup-schedule.ts';
import type { AuditRecord } from '../audit-service.ts';
import type {
  BackupScheduleRepository,
  ScheduleSettings,
  ScheduleState,
  StoredTarget,
} from '../ports/backup-schedule-repository.ts';
import type { BackupTarget } from '../ports/backup-target.ts';
import type { SecretFile } from '../ports/secret-file.ts';
import { BackupScheduleService } from './backup-schedule-service.ts';
import { BackupScheduler, COPY_BACKOFF_MS, COPY_RETRY_MS } from './backup-scheduler.ts';
import { FakeBackupSource, FakeClock } from './schedule-fakes-kit.ts';

const DAY = 86_400_000;
const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
const SECRET = 'Sup3r-Secret-Access-Key/ABCDEFGH';

class MemRepo implements BackupScheduleRepository {
  s: ScheduleSettings = { enabled: false, hour: 3, keepDaily: 7, keepWeekly: 4, recipient: null };
  st: ScheduleState = { nextRunAt: null, lastRunAt: null, lastBackupId: null, lastError: null };
  ts: StoredTarget[] = [];
  made: Array<{ id: string; created_at: string }> = [];
  settings = () => ({ ...this.s });
  saveSettings = (s: ScheduleSettings) => {
    this.s = { ...s };
  };
  state = () => ({ ...this.st });
  saveState = (s: ScheduleState) => {
    this.st = { ...s };
  };
  targets = () => this.ts.map((t) => structuredClone(t));
  target = (id: number) => this.targets().find((t) => t.id === id);
  invalidTargets = () => [];
  addTarget = (spec: BackupTargetSpec, createdAt: string) => {
    const t = {
      id: this.ts.length + 1,
      spec,
      createdAt,
      lastResult: null,
      pendingBackupId: null,
      nextRetryAt: null,
    };
    this.ts.push(t);
    return structuredClone(t);
  };
  removeTarget = (id: number) => {
    const n = this.ts.length;
    this.ts = this.ts.filter((t) => t.id !== id);
    return this.ts.length < n;
  };
  #edit = (id: number, fn: (t: StoredTarget) => void) => {
    const t = this.ts.find((x) => x.id === id);
    if (t) fn(t);
  };
  saveResult = (id: number, r: TargetResult) =>
    this.#edit(id, (t) => {
      t.lastResult = { ...r };
    });
  setPending = (id: number, b: string | null, at: number | null) =>
    this.#edit(id, (t) => {
      t.pendingBackupId = b;
      t.nextRetryAt = at;
    });
  addScheduled = (id: string, created_at: string) => void this.made.push({ id, created_at });
  scheduled = () => [...this.made];
}

class MemSecret implements SecretFile {
  v: string | undefined;
  read = () => this.v;
  write = (v: string) => {
    this.v = v;
  };
  remove = () => {
    this.v = undefined;
  };
}

/** A target in memory; `failing` makes every put fail (with a message quoting the secret, as a careless driver might). */
class MemTarget {
  objects = new Map<string, Buffer>();
  failing = false;
  puts: number[] = [];
  readonly clock: FakeClock;
  constructor(clock: FakeClock) {
    this.clock = clock;
  }
  driver(secret: string | undefined): BackupTarget {
    return {
      put: async (name: string, stream: Readable, size: number) => {
        this.puts.push(this.clock.t);
        if (this.failing) throw new Error(`HTTP 403 SignatureDoesNotMatch for key ${secret}`);
        const chunks: Buffer[] = [];
        for await (const c of stream) chunks.push(c as Buffer);
        const data = Buffer.concat(chunks);
        assert.equal(data.length, size);
        this.objects.set(name, data);
      },
      list: async () => [...this.objects].map(([name, d]) => ({ name, size: d.length })),
      remove: async (name: string) => void this.objects.delete(name),
    };
  }
}

function setup() {
  const clock = new FakeClock(Date.parse('2026-03-01T10:00:00Z'));
  const repo = new MemRepo();
  const source = new FakeBackupSource(clock.now);
  const passphrase = new MemSecret();
  const secrets = new Map<number, MemSecret>();
  const targetSecret = (id: number) => secrets.get(id) ?? secrets.set(id, new MemSecret()).get(id)!;
  const stores = new Map<string, MemTarget>();
  const storeOf = (spec: BackupTargetSpec) => {
    const key = spec.kind === 'directory' ? spec.path : spec.bucket;
    return stores.get(key) ?? stores.set(key, new MemTarget(clock)).get(key)!;
  };
  const targets = (spec: BackupTargetSpec, secret: string | undefined) => storeOf(spec).driver(secret);
  const audit: AuditRecord[] = [];
  const logs: Array<{ level: string; msg: string; fields: Record<string, unknown> }> = [];
  const service = new BackupScheduleService({
    repo,
    passphrase,
    targetSecret,
    targets,
    clock,
    available: true,
  });
  const scheduler = new BackupScheduler({
    repo,
    source,
    targets,
    passphrase,
    targetSecret,
    clock,
    audit: { record: (r) => void audit.push(r) },
    log: (level, fields, msg) => void logs.push({ level, fields, msg }),
  });
  service.onChange(() => scheduler.replan());
  scheduler.start();
  return { clock, repo, source, service, scheduler, audit, logs, storeOf, passphrase };
}

const S3 = {
  kind: 's3' as const,
  endpoint: 'https://s3.example.org',
  region: 'us-east-1',
  bucket: 'pic-backups',
  access_key_id: 'AKIAEXAMPLE',
  secret_access_key: SECRET,
};

test('daily at the hour (UTC): an encrypted backup, copied to every target', async () => {
  const t = setup();
  t.service.configure({ enabled: true, hour: 3, keep_daily: 7, keep_weekly: 4, recipient: RECIPIENT });
  t.service.addTarget({ kind: 'directory', path: '/srv/backups' });
  t.service.addTarget(S3);
  assert.equal(t.service.view().next_run_at, '2026-03-02T03:00:00.000Z');
  await t.clock.advance(16 * 3_600_000, () => t.scheduler.idle());
  assert.equal(t.source.created.length, 0, 'not before the hour');
  await t.clock.advance(3_600_000, () => t.scheduler.idle());
  assert.deepEqual(t.source.created, [{ recipient: RECIPIENT, origin: 'schedule' }]);
  const id = [...t.source.backups.keys()][0]!;
  for (const where of ['/srv/backups', 'pic-backups'])
    assert.deepEqual([...t.storeOf({ kind: 'directory', path: where }).objects.keys()], [`${id}.tar.gz.age`]);
  const v = t.service.view();
  assert.deepEqual(
    v.targets.map((x) => [x.last_result?.ok, x.last_result?.backup_id, x.pending_backup_id]),
    [
      [true, id, null],
      [true, id, null],
    ],
  );
  assert.equal(v.last_run?.backup_id, id);
  assert.equal(v.next_run_at, '2026-03-03T03:00:00.000Z');
  assert.ok(t.audit.some((a) => a.action === 'scheduled backup' && a.target === id));
  t.scheduler.stop();
  assert.equal(t.clock.timers.size, 0);
});

test('a stored passphrase is what the backup is made with; it never shows in the view', async () => {
  const t = setup();
  t.service.configure({
    enabled: true,
    hour: 3,
    keep_daily: 1,
    keep_weekly: 0,
    passphrase: 'correct horse battery',
  });
  const v = t.service.view();
  assert.deepEqual(v.encryption, { recipient: null, passphrase_set: true });
  assert.ok(!JSON.stringify(v).includes('horse'));
  await t.clock.advance(DAY, () => t.scheduler.idle());
  assert.deepEqual(t.source.created, [{ passphrase: 'correct horse battery', origin: 'schedule' }]);
  // A recipient replaces the passphrase (one kind at a time).
  t.service.configure({ enabled: true, hour: 3, keep_daily: 1, keep_weekly: 0, recipient: RECIPIENT });
  assert.deepEqual(t.service.view().encryption, { recipient: RECIPIENT, passphrase_set: false });
  t.scheduler.stop();
});

test('retention: scheduled backups only, here and on each target; a manual one and a stranger stay', async () => {
  const t = setup();
  t.service.configure({ enabled: true, hour: 3, keep_daily: 3, keep_weekly: 0, recipient: RECIPIENT });
  t.service.addTarget({ kind: 'directory', path: '/srv/backups' });
  const store = t.storeOf({ kind: 'directory', path: '/srv/backups' });
  const manual = t.source.addManual();
  store.objects.set('backup-20200101-000000-abcdef.tar.gz.age', Buffer.from('not ours'));
  await t.clock.advance(10 * DAY, () => t.scheduler.idle());
  assert.equal(t.source.created.length, 10);
  const scheduled = t.repo.made.map((b) => b.id);
  const local = [...t.source.backups.keys()].sort();
  assert.deepEqual(local, [manual, ...scheduled.slice(-3)].sort());
  assert.deepEqual(
    [...store.objects.keys()].sort(),
    [
      'backup-20200101-000000-abcdef.tar.gz.age',
      ...scheduled.slice(-3).map((id) => `${id}.tar.gz.age`),
    ].sort(),
  );
  t.scheduler.stop();
});

test('a failed copy: 3 tries, shown, audited, logged, retried hourly until the next backup replaces it', async () => {
  const t = setup();
  t.service.configure({ enabled: true, hour: 3, keep_daily: 7, keep_weekly: 4, recipient: RECIPIENT });
  t.service.addTarget(S3);
  const store = t.storeOf({ kind: 'directory', path: 'pic-backups' });
  store.failing = true;
  const slot = Date.parse('2026-03-02T03:00:00Z');
  await t.clock.advance(slot + 200_000 - t.clock.t, () => t.scheduler.idle());
  assert.deepEqual(store.puts, [
    slot,
    slot + COPY_BACKOFF_MS[0],
    slot + COPY_BACKOFF_MS[0] + COPY_BACKOFF_MS[1],
  ]);
  const first = [...t.source.backups.keys()][0]!;
  const target = t.service.view().targets[0]!;
  assert.equal(target.last_result?.ok, false);
  assert.equal(target.last_result?.backup_id, first);
  assert.match(target.last_result!.error!, /403 SignatureDoesNotMatch/);
  assert.ok(!target.last_result!.error!.includes(SECRET), 'the secret is removed from the error');
  assert.equal(target.pending_backup_id, first);
  const row = t.audit.find((a) => a.action === 'backup copy failed');
  assert.equal(row?.outcome, 'failure');
  assert.ok(row?.detail?.includes(first) && !row.detail.includes(SECRET));
  assert.ok(t.logs.some((l) => l.level === 'error' && !JSON.stringify(l).includes(SECRET)));
  // Hourly retries, each of 3 tries, until the target answers again.
  const before = store.puts.length;
  await t.clock.advance(COPY_RETRY_MS + 200_000, () => t.scheduler.idle());
  assert.equal(store.puts.length, before + 3);
  store.failing = false;
  await t.clock.advance(COPY_RETRY_MS, () => t.scheduler.idle());
  assert.deepEqual([...store.objects.keys()], [`${first}.tar.gz.age`]);
  assert.equal(t.service.view().targets[0]!.pending_backup_id, null);
  assert.equal(t.service.view().targets[0]!.last_result?.ok, true);
  // Failing again across the next scheduled backup: the new one replaces the old as the one to copy.
  store.failing = true;
  await t.clock.advance(slot + DAY + 200_000 - t.clock.t, () => t.scheduler.idle());
  const second = t.repo.made[1]!.id;
  assert.equal(t.service.view().targets[0]!.pending_backup_id, second);
  t.scheduler.stop();
  assert.equal(t.clock.timers.size, 0);
});

test('a busy engine delays the day’s backup by minutes; a failed job is shown and audited', async () => {
  const t = setup();
  t.service.configure({ enabled: true, hour: 3, keep_daily: 7, keep_weekly: 4 });
  t.source.busy = true;
  await t.clock.advance(17 * 3_600_000, () => t.scheduler.idle());
  assert.equal(t.source.created.length, 0);
  assert.equal(t.service.view().next_run_at, '2026-03-02T03:05:00.000Z');
  t.source.busy = false;
  await t.clock.advance(5 * 60_000, () => t.scheduler.idle());
  assert.equal(t.source.created.length, 1, 'unencrypted: no target, so allowed');
  t.source.failNext = 'disk full';
  await t.clock.advance(DAY, () => t.scheduler.idle());
  assert.equal(t.service.view().last_run?.error, 'disk full');
  assert.ok(t.audit.some((a) => a.action === 'scheduled backup failed' && a.detail === 'disk full'));
  t.scheduler.stop();
});

test('targets need encryption: no target without it, no removing it while targets exist', () => {
  const t = setup();
  assert.throws(() => t.service.addTarget({ kind: 'directory', path: '/srv/b' }), { code: 'conflict' });
  t.service.configure({
    enabled: true,
    hour: 3,
    keep_daily: 7,
    keep_weekly: 4,
    passphrase: 'correct horse battery',
  });
  t.service.addTarget({ kind: 'directory', path: '/srv/b' });
  assert.throws(
    () => t.service.configure({ enabled: true, hour: 3, keep_daily: 7, keep_weekly: 4, passphrase: null }),
    (e: { fields?: { field: string }[] }) => e.fields?.[0]?.field === 'passphrase',
  );
  assert.equal(t.passphrase.v, 'correct horse battery', 'nothing changed');
  assert.throws(() => t.service.addTarget({ kind: 'directory', path: '/srv/b' }), { code: 'conflict' });
  t.scheduler.stop();
});

test('stop() during a backoff ends the run and leaves no timer', async () => {
  const t = setup();
  t.service.configure({ enabled: true, hour: 3, keep_daily: 7, keep_weekly: 4, recipient: RECIPIENT });
  t.service.addTarget(S3);
  t.storeOf({ kind: 'directory', path: 'pic-backups' }).failing = true;
  await t.clock.advance(17 * 3_600_000 + 1_000, () => t.scheduler.idle()); // inside the first backoff
  assert.equal(t.clock.timers.size, 1);
  t.scheduler.stop();
  await t.scheduler.idle();
  assert.equal(t.clock.timers.size, 0);
});

test('a copy cut short by a restart (pending, no retry time) is made at the next start', async () => {
  const t = setup();
  t.service.configure({ enabled: true, hour: 3, keep_daily: 7, keep_weekly: 4, recipient: RECIPIENT });
  t.service.addTarget({ kind: 'directory', path: '/srv/b' });
  t.scheduler.stop();
  const id = t.source.create({ recipient: RECIPIENT, origin: 'schedule' }).backup_id;
  t.repo.addScheduled(id, new Date(t.clock.t).toISOString());
  t.repo.setPending(1, id, null);
  t.scheduler.start();
  await t.clock.advance(0, () => t.scheduler.idle());
  assert.deepEqual(
    [...t.storeOf({ kind: 'directory', path: '/srv/b' }).objects.keys()],
    [`${id}.tar.gz.age`],
  );
  assert.equal(t.repo.target(1)?.pendingBackupId, null);
  t.scheduler.stop();
});
