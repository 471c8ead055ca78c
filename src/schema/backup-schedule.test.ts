// The schedule's and the targets' fields: what passes, what is refused and that each refusal names
// its field. Hostile strings (newlines, shell metacharacters, traversal) are refused everywhere.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { z } from 'zod';
import {
  ageRecipient,
  backupIdOfObject,
  backupScheduleBody,
  backupTargetBody,
  s3Bucket,
  s3Endpoint,
  s3Prefix,
  schedulePassphrase,
  TARGET_OBJECT_NAME,
  targetPath,
} from './backup-schedule.ts';
import { HOSTILE_STRINGS } from './hostile.ts';

const ok = (s: z.ZodType, v: unknown) => assert.equal(s.safeParse(v).success, true, JSON.stringify(v));
const bad = (s: z.ZodType, v: unknown) =>
  assert.equal(s.safeParse(v).success, false, `${JSON.stringify(v)} should be refused`);
const fieldsOf = (s: z.ZodType, v: unknown) => {
  const r = s.safeParse(v);
  assert.equal(r.success, false, JSON.stringify(v));
  return r.error!.issues.map((i) => i.path.join('.'));
};

const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';

describe('fields', () => {
  test('age recipients: bech32 lowercase, at most 100 characters', () => {
    ok(ageRecipient, RECIPIENT);
    for (const v of [
      RECIPIENT.toUpperCase(),
      'age1',
      `${RECIPIENT}b`, // b is not bech32
      `age1${'q'.repeat(97)}`,
      `${RECIPIENT}\n`,
      'AGE-SECRET-KEY-1QQQ',
      ...HOSTILE_STRINGS,
    ])
      bad(ageRecipient, v);
  });

  test('passphrases: 12 or more characters, one line, no space at either end', () => {
    ok(schedulePassphrase, 'correct horse battery');
    for (const v of ['short', ' leading space x', 'trailing space x ', 'two\nlines here', 'tab\there-12345'])
      bad(schedulePassphrase, v);
  });

  test('directory paths: under /mnt/, /media/ or /srv/, safe characters, no . or .., no trailing slash', () => {
    for (const v of ['/srv/backups', '/mnt/usb-disk/pic', '/media/usb/pic.backups', '/mnt/usb/pic'])
      ok(targetPath, v);
    for (const v of [
      '/',
      'relative/dir',
      '/etc',
      '/data',
      '/app',
      '/root',
      '/home/me/pic',
      '/opt/pic',
      '/var/run',
      '/var/backups/pic',
      '/mnt',
      '/mnt/',
      '/media',
      '/srv',
      '/mnt/../etc',
      '/mnt/usb/../../etc',
      '/srv/../etc',
      '/srv/./x',
      '/srv/backups/',
      '/mntx/usb',
      '/srv/a b',
      '/srv/$(id)',
      '/srv/`id`',
      '/srv/a;b',
      '/srv/a\nb',
      '/etc/pic',
      '/proc/self',
      '/usr/local/backups',
      `/srv/${'a'.repeat(300)}`,
      ...HOSTILE_STRINGS,
    ])
      bad(targetPath, v);
  });

  test('a refused directory path names the allowed prefixes', () => {
    const r = targetPath.safeParse('/etc');
    assert.ok(!r.success);
    assert.match(r.error.issues[0]!.message, /\/mnt\/, \/media\/, \/srv\//);
  });

  test('S3 endpoints: https, http only on loopback, no path, query or credentials', () => {
    for (const v of [
      'https://s3.eu-central-1.amazonaws.com',
      'https://minio.example.org:9000/',
      'http://127.0.0.1:9000',
    ])
      ok(s3Endpoint, v);
    for (const v of [
      'http://s3.example.org',
      'https://s3.example.org/bucket',
      'https://s3.example.org/?x=1',
      'https://key:secret@s3.example.org',
      'ftp://s3.example.org',
      'https://s3.example.org\n',
      ...HOSTILE_STRINGS,
    ])
      bad(s3Endpoint, v);
  });

  test('S3 bucket names follow the naming rules', () => {
    for (const v of ['pic-backups', 'my.bucket.2026', 'abc']) ok(s3Bucket, v);
    for (const v of [
      'ab',
      'Upper',
      '-edge',
      'edge-',
      'a..b',
      '192.168.1.1',
      'xn--bucket',
      'b-s3alias',
      'a_b',
      'x'.repeat(64),
    ])
      bad(s3Bucket, v);
  });

  test('S3 prefixes: safe segments, no traversal, no slash at either end', () => {
    for (const v of ['pic', 'cells/home', 'a.b_c-d']) ok(s3Prefix, v);
    for (const v of ['/pic', 'pic/', 'a//b', '../x', 'a/./b', 'a b', 'a\nb']) bad(s3Prefix, v);
  });

  test('object names: backup archives and probes only', () => {
    for (const v of [
      'backup-20260301-030000-a1b2c3.tar.gz.age',
      'backup-20260301-030000-a1b2c3.tar.gz',
      'pic-probe-0123456789abcdef',
    ])
      assert.ok(TARGET_OBJECT_NAME.test(v), v);
    for (const v of [
      '../backup-20260301-030000-a1b2c3.tar.gz',
      'backup-20260301-030000-a1b2c3',
      'x.tar.gz',
      '.pic-tmp-x',
    ])
      assert.ok(!TARGET_OBJECT_NAME.test(v), v);
    assert.equal(
      backupIdOfObject('backup-20260301-030000-a1b2c3.tar.gz.age'),
      'backup-20260301-030000-a1b2c3',
    );
    assert.equal(backupIdOfObject('pic-probe-0123456789abcdef'), undefined);
  });
});

describe('bodies', () => {
  const schedule = { enabled: true, hour: 3, keep_daily: 7, keep_weekly: 4 };

  test('a schedule: ranges and encryption choices, each error naming its field', () => {
    ok(backupScheduleBody, schedule);
    ok(backupScheduleBody, { ...schedule, recipient: RECIPIENT });
    ok(backupScheduleBody, { ...schedule, passphrase: 'correct horse battery', recipient: null });
    assert.deepEqual(fieldsOf(backupScheduleBody, { ...schedule, hour: 24 }), ['hour']);
    assert.deepEqual(fieldsOf(backupScheduleBody, { ...schedule, keep_daily: 61 }), ['keep_daily']);
    assert.deepEqual(fieldsOf(backupScheduleBody, { ...schedule, keep_weekly: -1 }), ['keep_weekly']);
    assert.deepEqual(fieldsOf(backupScheduleBody, { ...schedule, hour: 2.5 }), ['hour']);
    assert.deepEqual(
      fieldsOf(backupScheduleBody, {
        ...schedule,
        recipient: RECIPIENT,
        passphrase: 'correct horse battery',
      }),
      ['passphrase'],
    );
    assert.deepEqual(fieldsOf(backupScheduleBody, { ...schedule, recipient: `${RECIPIENT}\nx` }), [
      'recipient',
    ]);
    assert.deepEqual(fieldsOf(backupScheduleBody, { ...schedule, extra: 1 }), ['']);
  });

  test('a target: the fields of its kind are required, the other kind’s refused', () => {
    ok(backupTargetBody, { kind: 'directory', path: '/srv/backups' });
    const s3 = {
      kind: 's3',
      endpoint: 'https://s3.example.org',
      region: 'us-east-1',
      bucket: 'pic-backups',
      prefix: 'home',
      access_key_id: 'AKIAEXAMPLE123',
      secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    };
    ok(backupTargetBody, s3);
    assert.deepEqual(fieldsOf(backupTargetBody, { kind: 'directory' }), ['path']);
    assert.deepEqual(
      fieldsOf(backupTargetBody, { kind: 'directory', path: '/srv/x', bucket: 'pic-backups' }),
      ['bucket'],
    );
    assert.deepEqual(fieldsOf(backupTargetBody, { ...s3, path: '/srv/x' }), ['path']);
    const { secret_access_key: _s, region: _r, ...partial } = s3;
    assert.deepEqual(fieldsOf(backupTargetBody, partial).sort(), ['region', 'secret_access_key']);
    assert.deepEqual(fieldsOf(backupTargetBody, { ...s3, secret_access_key: 'has space in it' }), [
      'secret_access_key',
    ]);
    assert.deepEqual(fieldsOf(backupTargetBody, { ...s3, endpoint: 'http://10.0.0.5:9000' }), ['endpoint']);
    assert.deepEqual(fieldsOf(backupTargetBody, { kind: 'directory', path: '../../etc/passwd' }), ['path']);
    assert.deepEqual(fieldsOf(backupTargetBody, { kind: 'ftp', path: '/srv/x' }), ['kind']);
  });
});
