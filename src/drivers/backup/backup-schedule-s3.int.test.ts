// The backup schedule end to end against the SigV4-checking fake S3 on 127.0.0.1, through the API
// and the composition (real S3 driver, in-memory backup engine, fake clock): a wrong secret key is a
// failed probe and a failed copy named "403 SignatureDoesNotMatch", retried (3 tries, then hourly),
// shown as the target's last result and audited; with the right key the copies land under the
// prefix and retention prunes scheduled archives only, never another object in the bucket.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { authed, completeSetup, type Kit, type Login, makeKit } from '../../api/test-kit.ts';
import { FakeBackupSource, FakeClock } from '../../core/backup/schedule-fakes-kit.ts';
import { type FakeS3, fakeS3 } from './sigv4-fake-kit.ts';

const SECRET = 'Right-Secret-Key-5c1e0b9a';
const WRONG = 'Wrong-Secret-Key-0d2f7e31';
const SCHEDULE = '/api/config/backups/schedule';
const TARGETS = '/api/config/backups/targets';

describe('scheduled backups to S3 (SigV4 checked)', () => {
  const clock = new FakeClock(Date.parse('2026-03-01T10:00:00Z'));
  const source = new FakeBackupSource(clock.now);
  let kit: Kit;
  let admin: Login;
  let s3: FakeS3;

  before(async () => {
    s3 = await fakeS3({
      accessKeyId: 'AKIAPIC0001',
      secretAccessKey: SECRET,
      bucket: 'pic-backups',
      region: 'eu-west-1',
    });
    kit = await makeKit({}, { clock, backupSource: source });
    admin = await completeSetup(kit);
  });
  after(async () => {
    await kit.close();
    await s3.close();
  });

  const call = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: unknown) =>
    kit.app.inject({
      method,
      url,
      headers: authed(admin),
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const advance = (ms: number) => clock.advance(ms, () => kit.cell.backupScheduler!.idle());
  const target = (secret: string) => ({
    kind: 's3',
    endpoint: s3.url,
    // The fake listens on loopback: refused without the owner's explicit consent.
    allow_private_endpoint: true,
    region: 'eu-west-1',
    bucket: 'pic-backups',
    prefix: 'home',
    access_key_id: 'AKIAPIC0001',
    secret_access_key: secret,
  });
  const puts = () => s3.requests.filter((r) => r.method === 'PUT');
  let id: number;

  test('a wrong secret key: the probe says 403 SignatureDoesNotMatch', async () => {
    const r = await call('PUT', SCHEDULE, {
      enabled: true,
      hour: 3,
      keep_daily: 2,
      keep_weekly: 0,
      recipient: 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p',
    });
    assert.equal(r.statusCode, 200, r.body);
    const t = await call('POST', TARGETS, target(WRONG));
    assert.equal(t.statusCode, 201, t.body);
    id = t.json().id;
    const probe = await call('POST', `${TARGETS}/${id}/test`);
    assert.deepEqual(probe.json(), {
      ok: false,
      error: 'write: upload: S3 answered HTTP 403 SignatureDoesNotMatch (check the secret access key)',
    });
    assert.equal(s3.objects.size, 0);
  });

  test('the scheduled copy fails 3 times, is shown and audited, and is retried an hour later', async () => {
    await advance(17 * 3_600_000 + 200_000);
    assert.equal(source.created.length, 1);
    const backup = [...source.backups.keys()][0]!;
    assert.equal(puts().length, 1 + 3, 'the probe, then 3 tries');
    assert.ok(puts().every((p) => p.status === 403));
    const v = (await call('GET', SCHEDULE)).json();
    assert.deepEqual(
      { ...v.targets[0].last_result, at: undefined },
      {
        at: undefined,
        ok: false,
        error: 'upload: S3 answered HTTP 403 SignatureDoesNotMatch (check the secret access key)',
        backup_id: backup,
      },
    );
    assert.equal(v.targets[0].pending_backup_id, backup);
    const rows = kit.cell.db
      .prepare("SELECT * FROM audit WHERE action = 'backup copy failed'")
      .all() as Array<{
      outcome: string;
      detail: string;
    }>;
    assert.equal(rows.length, 1);
    assert.match(rows[0]!.detail, /403 SignatureDoesNotMatch/);
    await advance(3_600_000 + 200_000);
    assert.equal(puts().length, 1 + 6, 'retried: 3 more tries an hour later');
    const dump = JSON.stringify(kit.cell.db.prepare('SELECT * FROM audit').all());
    assert.ok(!dump.includes(WRONG) && !dump.includes(SECRET));
  });

  test('with the right key the copy lands; retention prunes scheduled archives, not a stranger', async () => {
    assert.equal((await call('DELETE', `${TARGETS}/${id}`)).statusCode, 204);
    const t = await call('POST', TARGETS, target(SECRET));
    assert.equal(t.statusCode, 201, t.body);
    const probe = await call('POST', `${TARGETS}/${t.json().id}/test`);
    assert.deepEqual(probe.json(), { ok: true, error: null });
    s3.objects.set('home/backup-20200101-000000-abcdef.tar.gz.age', Buffer.from('not made by the schedule'));
    s3.objects.set('home/notes.txt', Buffer.from('the owner’s'));
    await advance(4 * 86_400_000);
    const made = [...source.backups.keys()];
    assert.equal(made.length, 2, 'keep_daily 2 here');
    assert.deepEqual(
      [...s3.objects.keys()].sort(),
      [
        'home/backup-20200101-000000-abcdef.tar.gz.age',
        'home/notes.txt',
        ...made.map((b) => `home/${b}.tar.gz.age`),
      ].sort(),
    );
    const v = (await call('GET', SCHEDULE)).json();
    assert.equal(v.targets[0].last_result.ok, true);
    assert.equal(v.targets[0].last_result.backup_id, made.at(-1));
  });
});
