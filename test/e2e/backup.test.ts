// Losing the machine, end to end: a real cell with a peer whose device is connected over WireGuard
// (the config the API exported, unchanged), DNS records and a certificate; an encrypted backup is
// downloaded; the cell is wiped (`pic uninstall --purge`) and a fresh one brought up in its place;
// the archive is uploaded and restored with its passphrase. Everything comes back identical and the
// device's tunnel works again without anyone touching the device.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { addPeer, CELL_VPN_IP, DeviceCell, exec, pings } from './devices.ts';
import { ADMIN_PASSWORD, ApiClient, docker, type TestCell, tryDocker, until } from './harness.ts';

const PASSPHRASE = 'the passphrase of this backup';
const FRESH_PASSWORD = 'a-fresh-install-password-2';

const devices = new DeviceCell('backup');
let cell: TestCell;
let admin: ApiClient;
let device = '';

before(async () => {
  await devices.start();
  ({ cell, admin } = devices);
});

after(() => devices.stop());

const ping = () => pings(device);

/** What must come back identical after the restore. */
async function snapshot(client: ApiClient) {
  const peers = (await client.call('GET', '/api/peers')).json as Array<Record<string, unknown>>;
  const records = (await client.call('GET', '/api/dns/records')).json as Array<Record<string, unknown>>;
  const certs = (await client.call('GET', '/api/vault/certs')).json;
  const ca = await (await fetch(`${cell.url}/api/vault/ca.crt`)).text();
  const config = (await client.call('GET', '/api/config')).json as { identity: unknown };
  return {
    peers: peers.map((p) => ({
      name: p.name,
      public_key: p.public_key,
      address: p.address,
      services: p.services,
    })),
    records: records.map((r) => ({ name: r.name, type: r.type, value: r.value })),
    certs,
    ca,
    identity: config.identity,
  };
}

async function until200(client: ApiClient, path: string) {
  return until(`${path} to answer`, async () =>
    (await client.call('GET', path)).status === 200 ? true : undefined,
  );
}

test('a cell wiped and brought up fresh takes its backup back: same peers, keys, records and CA; the device reconnects untouched', async () => {
  // The cell as it was: a peer with a connected device, a record, an issued certificate.
  await addPeer(admin, 'alice', ['dns']);
  // Runs until it pings the cell over its tunnel (alice is not granted web: no root to download).
  device = await devices.startDevice('alice', { trustRoot: false });
  assert.equal(
    (await admin.call('POST', '/api/dns/records', { name: 'nas', type: 'A', value: '10.0.0.50' })).status,
    201,
  );
  const cert = await admin.call('POST', '/api/vault/certs', {
    common_name: 'printer.e2e.cell',
    sans: ['printer.e2e.cell'],
  });
  assert.equal(cert.status, 201, JSON.stringify(cert.json));
  const before = await snapshot(admin);

  // An encrypted backup, downloaded as a person would before losing the machine.
  const started = await admin.call('POST', '/api/config/backup', { passphrase: PASSPHRASE });
  assert.equal(started.status, 202, JSON.stringify(started.json));
  const id = (started.json as { backup_id: string }).backup_id;
  await until('the backup to finish', async () => {
    const job = (
      (await admin.call('GET', `/api/config/backups/${id}`)).json as { job: { phase: string; error: string } }
    ).job;
    if (job.phase === 'failed') throw new Error(job.error);
    return job.phase === 'done' ? true : undefined;
  });
  const dl = await fetch(`${cell.url}/api/config/backups/${id}/download`, {
    headers: { cookie: admin.cookie },
  });
  assert.equal(dl.status, 200);
  const archive = Buffer.from(await dl.arrayBuffer());
  assert.equal(archive.subarray(0, 21).toString(), 'age-encryption.org/v1');

  // The machine is lost: everything of the cell is deleted; a fresh one comes up in its place.
  cell.pic(['uninstall', '--purge', '--yes']);
  const out = cell.pic(['up', '--no-build']);
  const token = out.trim().split('\n').at(-1)!.trim();
  const fresh = new ApiClient(cell.url);
  await until200(fresh, '/health');
  const setup = await fresh.call('POST', '/api/setup/complete', {
    token,
    cell_name: 'e2e',
    domain_mode: 'local',
    timezone: 'UTC',
    admin_password: FRESH_PASSWORD,
    services: [],
  });
  assert.equal(setup.status, 201, JSON.stringify(setup.json));
  assert.equal(((await fresh.call('GET', '/api/peers')).json as unknown[]).length, 0, 'a fresh cell');

  // Upload the archive, type the passphrase.
  const up = await fetch(`${cell.url}/api/config/backups/upload`, {
    method: 'POST',
    headers: { cookie: fresh.cookie, 'x-csrf-token': fresh.csrf, 'content-type': 'application/octet-stream' },
    body: archive,
  });
  assert.equal(up.status, 201, await up.clone().text());
  const uploaded = ((await up.json()) as { backup_id: string }).backup_id;
  const wrong = await fresh.call('POST', `/api/config/restore/${uploaded}`, {
    passphrase: 'not the passphrase!',
  });
  assert.equal(wrong.status, 400);
  const restore = await fresh.call('POST', `/api/config/restore/${uploaded}`, { passphrase: PASSPHRASE });
  assert.equal(restore.status, 202, JSON.stringify(restore.json));

  // The restore ends every session: the restored admin logs in with the password from before.
  const owner = new ApiClient(cell.url);
  await until('the restored admin to log in', async () => {
    const r = await owner.call('POST', '/api/auth/login', { username: 'admin', password: ADMIN_PASSWORD });
    return r.status === 200 ? true : undefined;
  });
  await until('the restore to finish', async () => {
    const job = (
      (await owner.call('GET', `/api/config/backups/${uploaded}`)).json as {
        job: { phase: string; error: string };
      }
    ).job;
    if (job.phase === 'failed') throw new Error(job.error);
    return job.phase === 'done' ? true : undefined;
  });
  assert.equal((await fresh.call('GET', '/api/peers')).status, 401, "the fresh install's session ended");

  assert.deepEqual(await snapshot(owner), before);
  // The device was never touched: its tunnel to the same endpoint and server key works again.
  await until(
    'the untouched device to ping the cell again',
    async () => (ping() ? true : undefined),
    120_000,
  );
  const dig = exec(device, ['dig', '+short', '+time=2', '+tries=2', `@${CELL_VPN_IP}`, 'nas.e2e.cell', 'A']);
  assert.equal(
    dig.stdout.trim(),
    '10.0.0.50',
    `the restored record answers through the tunnel: ${dig.stderr}`,
  );
});

type Job = {
  phase: string;
  bytes_done: number;
  bytes_total: number | null;
  error: string | null;
  notes: string[];
};

/** Every file under `dir`, relative, depth first (the test runs as root: it sees cell-api's files). */
function filesUnder(dir: string, rel = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name), `${rel}${e.name}/`) : [`${rel}${e.name}`],
  );
}

function head(file: string, n: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(n);
    return b.subarray(0, readSync(fd, b, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

const AGE_MAGIC = Buffer.from('age-encryption.org/v1\n');
const LEFT = /^(restore-staging-|backup-snapshot-|restore-journal\.json|backup-job\.json)/;

test('docker kill -s KILL of cell-api during backups and restores: nothing damaged, no plaintext left, the job reported, a backup and a restore work after', async () => {
  const api = cell.name('api');
  const data = join(cell.dir, 'data', 'api');
  const owner = statSync(data);
  // Incompressible files in the data directory, so each job lasts long enough to be caught mid-phase.
  const bulk = join(data, 'bulk');
  mkdirSync(bulk, { mode: 0o700 });
  for (let i = 0; i < 12; i++) writeFileSync(join(bulk, `b${i}`), randomBytes(8 << 20), { mode: 0o600 });
  for (const f of ['', ...readdirSync(bulk)]) chownSync(join(bulk, f), owner.uid, owner.gid);

  let client = new ApiClient(cell.url);
  const login = async () => {
    client = new ApiClient(cell.url);
    await until('the admin to log in', async () => {
      const r = await client.call('POST', '/api/auth/login', { username: 'admin', password: ADMIN_PASSWORD });
      return r.status === 200 ? true : undefined;
    });
  };
  await login();
  const before = await snapshot(client);
  assert.ok(before.peers.length > 0 && before.records.length > 0);
  const job = async (id: string): Promise<Job | undefined> => {
    const r = await client.call('GET', `/api/config/backups/${id}`);
    if (r.status === 401) return undefined; // a restore ended the session
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return (r.json as { job: Job | null }).job ?? undefined;
  };
  const pollUntil = async (id: string, what: string, at: (j: Job) => boolean) => {
    for (let i = 0; i < 6000; i++) {
      const j = await job(id);
      if (!j) await login();
      else if (at(j)) return j;
      else if (j.phase === 'done' || j.phase === 'failed')
        throw new Error(`the job ended (${j.phase}: ${j.error}) before ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`never ${what}`);
  };
  const finished = async (id: string) =>
    until(`${id} to end`, async () => {
      const j = await job(id);
      if (!j) {
        await login();
        return undefined;
      }
      return j.phase === 'done' || j.phase === 'failed' ? j : undefined;
    });

  /** What a kill may leave before the start: a staging dir (0700), an encrypted temp archive (age bytes). */
  const checkNoPlaintext = (started: boolean) => {
    const left = readdirSync(data).filter((n) => LEFT.test(n));
    if (started) assert.deepEqual(left, [], 'the start removed every staging directory, snapshot and mark');
    for (const n of left.filter((n) => n.startsWith('restore-staging-') || n.startsWith('backup-snapshot-')))
      assert.equal(statSync(join(data, n)).mode & 0o777, 0o700, `${n} is 0700`);
    for (const f of filesUnder(join(data, 'backups'))) {
      assert.match(
        f,
        /^backup-\d{8}-\d{6}-[0-9a-f]{6}\.tar\.gz\.age(\.partial-[0-9a-f]+)?$/,
        `${f}: encrypted only`,
      );
      assert.ok(!(started && f.includes('.partial-')), `${f}: the start removed the temp file`);
      const h = head(join(data, 'backups', f), AGE_MAGIC.length);
      assert.ok(AGE_MAGIC.subarray(0, h.length).equals(h), `${f} holds age bytes only`);
    }
  };

  /** kill -9 of the container, the cell brought back as its restart policy would, then the checks. */
  const killAndComeBack = async (id: string, kind: 'backup' | 'restore') => {
    docker(['kill', '-s', 'KILL', api]);
    checkNoPlaintext(false);
    const left = readdirSync(data).filter((n) => LEFT.test(n));
    tryDocker(['start', api]);
    await until200(new ApiClient(cell.url), '/health');
    await login();
    checkNoPlaintext(true);
    // The old state (or, for a restore the journal committed, the backup's: the same cell, taken just before).
    assert.deepEqual(await snapshot(client), before, 'the cell is as it was');
    const j = await job(id);
    // A restore killed in its last step may have ended before the kill landed: nothing to report then.
    if (!j && kind === 'restore') return { left, job: undefined };
    assert.ok(j, 'the start reports the interrupted job');
    if (kind === 'backup' || !j.notes.some((n) => /its start finished it/.test(n))) {
      assert.equal(j.phase, 'failed');
      assert.match(j.error ?? '', /^interrupted: the process stopped during the/);
    } else assert.equal(j.phase, 'done');
    return { left, job: j };
  };

  // Backups killed in the database/first files, and a third of the way through writing.
  for (const point of ['early', 'writing'] as const) {
    const started = await client.call('POST', '/api/config/backup', { passphrase: PASSPHRASE });
    assert.equal(started.status, 202, JSON.stringify(started.json));
    const id = (started.json as { backup_id: string }).backup_id;
    if (point === 'writing')
      await pollUntil(
        id,
        'a third written',
        (j) => !!j.bytes_total && j.bytes_done > j.bytes_total * 0.3 && j.bytes_done < j.bytes_total * 0.8,
      );
    const { left } = await killAndComeBack(id, 'backup');
    assert.ok(!existsSync(join(data, 'backups', `${id}.tar.gz.age`)), 'no archive of the killed backup');
    console.log(`backup killed ${point}: left before the start ${JSON.stringify(left)}`);
  }

  // A complete backup of this state to restore from, then restores killed mid-unpack and after it.
  const made = await client.call('POST', '/api/config/backup', { passphrase: PASSPHRASE });
  const keep = (made.json as { backup_id: string }).backup_id;
  const kept = await finished(keep);
  assert.equal(kept.phase, 'done', kept.error ?? '');
  for (const point of ['unpacking', 'after-unpacking'] as const) {
    const r = await client.call('POST', `/api/config/restore/${keep}`, { passphrase: PASSPHRASE });
    assert.equal(r.status, 202, JSON.stringify(r.json));
    const seen = await pollUntil(keep, point, (j) =>
      point === 'unpacking'
        ? j.phase === 'unpacking' &&
          !!j.bytes_total &&
          j.bytes_done > j.bytes_total * 0.2 &&
          j.bytes_done < j.bytes_total * 0.8
        : !['queued', 'unpacking'].includes(j.phase),
    );
    const { left, job: after } = await killAndComeBack(keep, 'restore');
    if (point === 'unpacking') {
      assert.ok(
        left.some((n) => n.startsWith('restore-staging-')),
        'killed mid-unpack: a staging directory until the start',
      );
      assert.equal(after?.phase, 'failed');
    }
    console.log(
      `restore killed ${point} (at ${seen.phase}): left before the start ${JSON.stringify(left)}, job ${after?.phase ?? 'none (ended before the kill)'}`,
    );
  }

  // The device was never touched: its old config still connects.
  await until(
    'the untouched device to ping the cell after the kills',
    async () => (ping() ? true : undefined),
    120_000,
  );

  // A fresh backup and a restore of it work after the kills.
  const again = await client.call('POST', '/api/config/backup', { passphrase: PASSPHRASE });
  const fresh = (again.json as { backup_id: string }).backup_id;
  const done = await finished(fresh);
  assert.equal(done.phase, 'done', done.error ?? '');
  const r = await client.call('POST', `/api/config/restore/${fresh}`, { passphrase: PASSPHRASE });
  assert.equal(r.status, 202, JSON.stringify(r.json));
  const restored = await finished(fresh);
  assert.equal(restored.phase, 'done', restored.error ?? '');
  await login();
  assert.deepEqual(await snapshot(client), before);
  checkNoPlaintext(true);
  await until(
    'the device to ping the cell after the last restore',
    async () => (ping() ? true : undefined),
    120_000,
  );
  rmSync(bulk, { recursive: true, force: true });
});
