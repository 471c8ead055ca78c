// The backup schedule API on a real cell with an in-memory backup engine and directory targets in a
// temp dir: validation (400 naming the field: malformed values, newline injection, ../ paths,
// oversized), secrets write-only (0600 files; never in an answer, the database, an audit row or a
// log line), targets only with encryption, the probe test, CSRF, and a scheduled run on a fake clock
// through the composition: the backup lands in every directory, the last result of each is shown.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FakeBackupSource, FakeClock } from '../core/backup/schedule-fakes-kit.ts';
import { cidrRange, formatIpv4 } from '../schema/fields.ts';
import { authed, completeSetup, type Kit, type Login, makeKit } from './test-kit.ts';

const PASSPHRASE = 'Marker-Passphrase-7f3a9c';
const S3_SECRET = 'Marker-S3-Secret-Key-b81d42';
const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
const SCHEDULE = '/api/config/backups/schedule';
const TARGETS = '/api/config/backups/targets';

describe('backup schedule API', () => {
  const clock = new FakeClock(Date.parse('2026-03-01T10:00:00Z'));
  const source = new FakeBackupSource(clock.now);
  let kit: Kit;
  let admin: Login;
  let dirA: string;
  let dirB: string;
  // Directory targets must be under /mnt/, /media/ or /srv/ (the tests run as root).
  let base: string;

  before(async () => {
    kit = await makeKit({}, { clock, backupSource: source });
    admin = await completeSetup(kit);
    mkdirSync('/srv', { recursive: true });
    base = mkdtempSync('/srv/pic-int-test-');
    dirA = join(base, 'usb-disk');
    dirB = join(base, 'nas', 'pic');
    mkdirSync(dirA);
    mkdirSync(dirB, { recursive: true });
  });
  after(async () => {
    rmSync(base, { recursive: true, force: true });
    await kit.close();
    const left = [...clock.timers.values()].length;
    assert.equal(left, 0, 'closing the cell stops the schedulers');
  });

  const call = (
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    url: string,
    payload?: unknown,
    headers: Record<string, string> = authed(admin),
  ) =>
    kit.app.inject({
      method,
      url,
      headers,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const fieldsOf = (r: { json(): { fields?: Array<{ field: string }> } }) =>
    (r.json().fields ?? []).map((f) => f.field);
  const schedule = { enabled: true, hour: 3, keep_daily: 2, keep_weekly: 0 };
  const s3 = {
    kind: 's3',
    endpoint: 'https://s3.example.org',
    region: 'eu-central-1',
    bucket: 'pic-backups',
    prefix: 'home',
    access_key_id: 'AKIAEXAMPLE0001',
    secret_access_key: S3_SECRET,
  };
  const advance = (ms: number) => clock.advance(ms, () => kit.cell.backupScheduler!.idle());

  test('at first: off, no encryption, no target, the engine available', async () => {
    const r = await call('GET', SCHEDULE);
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json(), {
      schedule: { enabled: false, hour: 3, keep_daily: 7, keep_weekly: 4 },
      encryption: { recipient: null, passphrase_set: false },
      targets: [],
      next_run_at: null,
      last_run: null,
      available: true,
    });
  });

  test('bad schedules: 400 naming the field, nothing stored', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ hour: 24 }, 'hour'],
      [{ hour: '3' }, 'hour'],
      [{ keep_daily: 61 }, 'keep_daily'],
      [{ keep_weekly: 53 }, 'keep_weekly'],
      [{ enabled: 'yes' }, 'enabled'],
      [{ recipient: `${RECIPIENT}\nX-Injected: 1` }, 'recipient'],
      [{ recipient: 'age1$(id)' }, 'recipient'],
      [{ recipient: `age1${'q'.repeat(200)}` }, 'recipient'],
      [{ passphrase: 'too short' }, 'passphrase'],
      [{ passphrase: 'a long passphrase\nwith a newline' }, 'passphrase'],
      [{ passphrase: 'x'.repeat(2000) }, 'passphrase'],
      [{ passphrase: PASSPHRASE, recipient: RECIPIENT }, 'passphrase'],
      [{ zz: 1 }, 'zz'],
    ];
    for (const [over, field] of cases) {
      const r = await call('PUT', SCHEDULE, { ...schedule, ...over });
      assert.equal(r.statusCode, 400, `${JSON.stringify(over)}: ${r.body}`);
      assert.ok(fieldsOf(r).includes(field), `${JSON.stringify(over)} → ${r.body}`);
      assert.ok(!r.body.includes(PASSPHRASE));
    }
    assert.equal((await call('GET', SCHEDULE)).json().schedule.enabled, false);
  });

  test('no target before there is encryption (409)', async () => {
    const r = await call('POST', TARGETS, { kind: 'directory', path: dirA });
    assert.equal(r.statusCode, 409, r.body);
    assert.match(r.json().message, /recipient or a passphrase/);
  });

  test('the passphrase is write-only: a 0600 file, never in an answer', async () => {
    const r = await call('PUT', SCHEDULE, { ...schedule, passphrase: PASSPHRASE });
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json().encryption, { recipient: null, passphrase_set: true });
    assert.equal(r.json().next_run_at, '2026-03-02T03:00:00.000Z');
    assert.ok(!r.body.includes(PASSPHRASE));
    const file = join(kit.cell.paths.secrets, 'backup', 'passphrase');
    assert.equal(readFileSync(file, 'utf8').trim(), PASSPHRASE);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    // Left out: kept.
    const again = await call('PUT', SCHEDULE, schedule);
    assert.equal(again.json().encryption.passphrase_set, true);
  });

  test('bad targets: 400 naming the field (traversal, injection, oversized, the other kind’s fields)', async () => {
    // An address in the cell's own network and in its VPN's.
    const identity = kit.cell.deps.config.get().identity;
    const CELL_HOST = formatIpv4(cidrRange(identity.ip_range).first + 9);
    const VPN_HOST = identity.vpn_address.split('/')[0]!;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ kind: 'directory', path: '../../etc' }, 'path'],
      [{ kind: 'directory', path: `${dirA}/../..` }, 'path'],
      [{ kind: 'directory', path: 'relative/dir' }, 'path'],
      [{ kind: 'directory', path: `${dirA}\nX` }, 'path'],
      [{ kind: 'directory', path: `${dirA};rm -rf /` }, 'path'],
      [{ kind: 'directory', path: `/${'a'.repeat(300)}` }, 'path'],
      [{ kind: 'directory', path: '/etc/cron.d' }, 'path'],
      ...['/etc', '/', '/data', '/app', '/root', '/opt/pic', '/var/run', '/mnt', '/mnt/usb/../../etc'].map(
        (path): [Record<string, unknown>, string] => [{ kind: 'directory', path }, 'path'],
      ),
      [{ kind: 'directory' }, 'path'],
      [{ kind: 'directory', path: dirA, bucket: 'pic-backups' }, 'bucket'],
      [{ kind: 'tape', path: dirA }, 'kind'],
      [{ ...s3, endpoint: 'http://s3.example.org' }, 'endpoint'],
      [{ ...s3, endpoint: 'https://s3.example.org/other-bucket' }, 'endpoint'],
      [{ ...s3, endpoint: 'https://key:secret@s3.example.org' }, 'endpoint'],
      [{ ...s3, bucket: 'Bad_Bucket' }, 'bucket'],
      [{ ...s3, bucket: '10.0.0.1' }, 'bucket'],
      [{ ...s3, prefix: '../up' }, 'prefix'],
      [{ ...s3, prefix: 'a\nb' }, 'prefix'],
      [{ ...s3, region: 'eu central' }, 'region'],
      [{ ...s3, access_key_id: 'AKIA$(id)' }, 'access_key_id'],
      [{ ...s3, secret_access_key: 'has spaces in it' }, 'secret_access_key'],
      [{ ...s3, secret_access_key: undefined }, 'secret_access_key'],
      [{ ...s3, path: dirA }, 'path'],
      [{ kind: 'directory', path: dirA, allow_private_endpoint: true }, 'allow_private_endpoint'],
      [{ ...s3, allow_private_endpoint: 'yes' }, 'allow_private_endpoint'],
      // Not off-host: this machine, link-local, the cell's own networks (unless allowed on purpose).
      [{ ...s3, endpoint: 'https://127.0.0.1:9000' }, 'endpoint'],
      [{ ...s3, endpoint: 'http://localhost:9000' }, 'endpoint'],
      [{ ...s3, endpoint: 'https://[::1]' }, 'endpoint'],
      [{ ...s3, endpoint: 'https://169.254.169.254' }, 'endpoint'],
      [{ ...s3, endpoint: 'https://[fe80::1]' }, 'endpoint'],
      [{ ...s3, endpoint: `https://${CELL_HOST}` }, 'endpoint'],
      [{ ...s3, endpoint: `https://${VPN_HOST}` }, 'endpoint'],
    ];
    for (const [body, field] of cases) {
      const r = await call('POST', TARGETS, body);
      assert.equal(r.statusCode, 400, `${JSON.stringify(body)}: ${r.body}`);
      assert.ok(fieldsOf(r).includes(field), `${JSON.stringify(body)} → ${r.body}`);
      assert.ok(!r.body.includes(S3_SECRET));
    }
    assert.deepEqual((await call('GET', SCHEDULE)).json().targets, []);
  });

  test('an S3 endpoint on this machine is refused naming both fields, and accepted when allowed', async () => {
    const local = { ...s3, endpoint: 'https://127.0.0.1:9000' };
    const r = await call('POST', TARGETS, local);
    assert.equal(r.statusCode, 400, r.body);
    assert.match(r.json().error.message ?? r.body, /loopback.*allow_private_endpoint: true/);
    const ok = await call('POST', TARGETS, { ...local, allow_private_endpoint: true });
    assert.equal(ok.statusCode, 201, ok.body);
    assert.equal(ok.json().allow_private_endpoint, true);
    assert.equal((await call('DELETE', `${TARGETS}/${ok.json().id}`)).statusCode, 204);
  });

  test('targets: 201 with an id; the S3 secret is write-only; duplicates are refused', async () => {
    const a = await call('POST', TARGETS, { kind: 'directory', path: dirA });
    assert.equal(a.statusCode, 201, a.body);
    assert.equal(a.json().kind, 'directory');
    assert.equal(a.json().path, dirA);
    assert.equal(a.json().last_result, null);
    assert.equal((await call('POST', TARGETS, { kind: 'directory', path: dirA })).statusCode, 409);
    const b = await call('POST', TARGETS, { kind: 'directory', path: dirB });
    assert.equal(b.statusCode, 201, b.body);
    const c = await call('POST', TARGETS, s3);
    assert.equal(c.statusCode, 201, c.body);
    assert.equal(c.json().secret_set, true);
    assert.ok(!c.body.includes(S3_SECRET));
    const file = join(kit.cell.paths.secrets, 'backup', `target-${c.json().id}.key`);
    assert.equal(readFileSync(file, 'utf8').trim(), S3_SECRET);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const view = await call('GET', SCHEDULE);
    assert.deepEqual(
      view.json().targets.map((t: { kind: string }) => t.kind),
      ['directory', 'directory', 's3'],
    );
    assert.ok(!view.body.includes(S3_SECRET));
    // The S3 target is not reachable from here (no packet leaves the machine): removed again.
    const del = await call('DELETE', `${TARGETS}/${c.json().id}`);
    assert.equal(del.statusCode, 204, del.body);
    assert.equal((await call('DELETE', `${TARGETS}/${c.json().id}`)).statusCode, 404);
    assert.throws(() => statSync(file), 'the secret goes with its target');
  });

  test('encryption cannot be removed while targets exist (400 naming the field)', async () => {
    const r = await call('PUT', SCHEDULE, { ...schedule, passphrase: null });
    assert.equal(r.statusCode, 400, r.body);
    assert.deepEqual(fieldsOf(r), ['passphrase']);
    assert.equal((await call('GET', SCHEDULE)).json().encryption.passphrase_set, true);
  });

  test('the probe test: ok on a directory, the reason when it is missing, 404 for no target', async () => {
    const [a] = (await call('GET', SCHEDULE)).json().targets as Array<{ id: number }>;
    const ok = await call('POST', `${TARGETS}/${a!.id}/test`);
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(ok.json(), { ok: true, error: null });
    assert.deepEqual(readdirSync(dirA), [], 'the probe is removed');
    const gone = join(base, 'unplugged');
    const t = await call('POST', TARGETS, { kind: 'directory', path: gone });
    const bad = await call('POST', `${TARGETS}/${t.json().id}/test`);
    assert.equal(bad.json().ok, false);
    assert.match(bad.json().error, /^write: .*unplugged does not exist \(is the disk mounted\?/);
    await call('DELETE', `${TARGETS}/${t.json().id}`);
    assert.equal((await call('POST', `${TARGETS}/9999/test`)).statusCode, 404);
    assert.equal((await call('POST', `${TARGETS}/0/test`)).statusCode, 400);
  });

  test('writes need the CSRF token', async () => {
    const noCsrf = { cookie: admin.cookie };
    assert.equal((await call('PUT', SCHEDULE, schedule, noCsrf)).statusCode, 403);
    assert.equal((await call('POST', TARGETS, { kind: 'directory', path: dirB }, noCsrf)).statusCode, 403);
    assert.equal((await call('DELETE', `${TARGETS}/1`, undefined, noCsrf)).statusCode, 403);
  });

  test('the schedule runs at the hour: each directory gets the backup; retention keeps 2 days', async () => {
    await advance(17 * 3_600_000);
    assert.equal(source.created.length, 1);
    assert.deepEqual(source.created[0], { passphrase: PASSPHRASE, origin: 'schedule' });
    const first = [...source.backups.keys()][0]!;
    for (const d of [dirA, dirB]) assert.deepEqual(readdirSync(d), [`${first}.tar.gz.age`]);
    const v = (await call('GET', SCHEDULE)).json();
    for (const t of v.targets) {
      assert.equal(t.last_result.ok, true);
      assert.equal(t.last_result.backup_id, first);
      assert.equal(t.pending_backup_id, null);
    }
    assert.equal(v.last_run.backup_id, first);
    await advance(3 * 86_400_000);
    assert.equal(source.created.length, 4);
    for (const d of [dirA, dirB]) assert.equal(readdirSync(d).length, 2, 'keep_daily 2');
    assert.equal(source.backups.size, 2);
  });

  test('a directory that disappeared: the failed copy is shown and audited, retried, then copied', async () => {
    const { rmSync } = await import('node:fs');
    rmSync(dirB, { recursive: true });
    await advance(86_400_000 + 200_000);
    const v = (await call('GET', SCHEDULE)).json();
    const b = v.targets.find((t: { path: string }) => t.path === dirB);
    assert.equal(b.last_result.ok, false);
    assert.match(b.last_result.error, /does not exist/);
    assert.equal(b.pending_backup_id, v.last_run.backup_id);
    const rows = kit.cell.db
      .prepare("SELECT * FROM audit WHERE action = 'backup copy failed'")
      .all() as Array<{ outcome: string; source: string; target: string }>;
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.outcome, 'failure');
    assert.equal(rows[0]!.source, 'backup');
    assert.match(rows[0]!.target, /directory .*nas\/pic/);
    mkdirSync(dirB, { recursive: true });
    await advance(3_600_000);
    const after = (await call('GET', SCHEDULE)).json().targets.find((t: { path: string }) => t.path === dirB);
    assert.equal(after.last_result.ok, true);
    assert.equal(after.pending_backup_id, null);
    assert.deepEqual(readdirSync(dirB), [`${v.last_run.backup_id}.tar.gz.age`]);
  });

  test('a stored row the schema refuses (a crafted restore) is not listed, not copied to, never mounted', async () => {
    const before = (await call('GET', SCHEDULE)).json().targets.length;
    const { id } = kit.cell.db
      .prepare("INSERT INTO backup_targets (kind, spec, created_at) VALUES ('directory', ?, ?) RETURNING id")
      .get(JSON.stringify({ path: '/etc' }), '2026-03-01T00:00:00Z') as { id: number };
    kit.cell.db
      .prepare("INSERT INTO backup_targets (kind, spec, created_at) VALUES ('directory', ?, ?)")
      .run('not json', '2026-03-01T00:00:00Z');
    const sched = kit.cell.deps.backupSchedule;
    assert.ok(!sched.directories().some((d) => d.path === '/etc' || d.id === id));
    assert.deepEqual(
      sched.invalidTargets().map((t) => t.id),
      [id, id + 1],
    );
    assert.match(sched.invalidTargets()[0]!.error, /^path: must be a directory under \/mnt\//);
    assert.equal((await call('GET', SCHEDULE)).json().targets.length, before);
    assert.equal((await call('POST', `${TARGETS}/${id}/test`)).statusCode, 404);
    // desiredState mounts only directories() (and re-checks each path): backup-binds.test.ts.
    assert.equal((await call('DELETE', `${TARGETS}/${id}`)).statusCode, 204);
    kit.cell.db.prepare('DELETE FROM backup_targets WHERE id = ?').run(id + 1);
    assert.deepEqual(sched.invalidTargets(), []);
  });

  test('no secret in the database, an audit row or a log line', () => {
    const dump = JSON.stringify([
      kit.cell.db.prepare('SELECT * FROM backup_schedule').all(),
      kit.cell.db.prepare('SELECT * FROM backup_targets').all(),
      kit.cell.db.prepare('SELECT * FROM audit').all(),
    ]);
    assert.match(dump, /backup copy failed/);
    const logs = readdirSync(kit.cell.paths.logs)
      .map((f) => readFileSync(join(kit.cell.paths.logs, f), 'utf8'))
      .join('\n');
    assert.match(logs, /could not copy the backup to its target/);
    for (const secret of [PASSPHRASE, S3_SECRET]) {
      assert.ok(!dump.includes(secret), `database: ${secret}`);
      assert.ok(!logs.includes(secret), `logs: ${secret}`);
    }
  });
});
