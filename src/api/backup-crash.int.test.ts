// kill -9 of a real `pic serve` while it backs up and while it restores (issue 11): nothing is damaged
// and no plaintext is left behind. A backup killed at any point leaves at most its temp file (age bytes
// when encrypted), removed at the next start; a restore killed before its journal leaves the cell
// exactly as it was, one killed after it is finished at the next start, exactly as the backup — never
// a mix. Secrets are traced by two markers per cell: a file in secrets/ and a TXT record in the
// database; only the live files, the marker file and finished unencrypted backups may hold them.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  api,
  backup,
  type Cell,
  checkLeftovers,
  cleanUp,
  exitedWithin,
  expectState,
  finished,
  job,
  journal,
  KNOBS,
  login,
  newCell,
  ok,
  PASS,
  pollUntil,
  restart,
  type Snapshot,
  snapshot,
  staging,
  usersOf,
  type Which,
} from './backup-crash-kit.ts';
import { filesUnder, startServe } from './serve-process-kit.ts';

after(cleanUp);

describe('kill -9 of pic serve during backups and restores', { timeout: 150_000 }, () => {
  let a: Cell;
  let keep: string; // a big encrypted backup of cell a, restored below
  let beforeBackups: Snapshot;
  let atKeep: Snapshot;
  let b: Cell;
  let small: string; // a small encrypted backup of cell a, uploaded to cell b
  let stateA: Snapshot;
  let bSelf: string; // cell b's own backup, to bring it back between the kills
  let stateB: Snapshot;
  const A_PASSWORD = 'alpha admin password 1';
  const B_PASSWORD = 'bravo admin password 2';

  test('cell a: peers, a DNS record, a certificate and 32 MiB of incompressible files', async () => {
    a = await newCell('alpha', A_PASSWORD, ['laptop', 'phone'], true);
    beforeBackups = await snapshot(a);
    checkLeftovers(a, true);
  });

  for (const passphrase of [PASS, undefined]) {
    const kind = passphrase ? 'encrypted' : 'unencrypted';
    for (const point of ['after-202', 'writing', 'nearly-done'] as const) {
      test(`${kind} backup killed ${point}: the temp file goes at the next start, the cell works`, async () => {
        const oldSession = a.session;
        const id = ok(
          await api(a, 'POST', '/api/config/backup', passphrase ? { passphrase } : {}),
          202,
        ).backup_id;
        if (point === 'writing')
          await pollUntil(
            a,
            id,
            'a third written',
            (j) =>
              !!j?.bytes_total && j.bytes_done > j.bytes_total * 0.3 && j.bytes_done < j.bytes_total * 0.7,
          );
        if (point === 'nearly-done')
          await pollUntil(
            a,
            id,
            '90% written',
            (j) => !!j?.bytes_total && j.bytes_done >= j.bytes_total * 0.9,
          );
        await a.server.kill9();
        const inBackups = filesUnder(join(a.data, 'backups'));
        assert.ok(
          !inBackups.some((f) => f.startsWith(`${id}.tar.gz`) && !f.includes('.partial-')),
          'not finished',
        );
        if (point !== 'after-202')
          assert.equal(
            inBackups.filter((f) => f.includes('.partial-')).length,
            1,
            'killed mid-write: a temp file',
          );
        checkLeftovers(a, false);
        await restart(a);
        assert.equal(
          (await api(a, 'GET', '/api/auth/me', undefined, oldSession)).status,
          200,
          'sessions kept',
        );
        a.session = await login(a);
        const was = await job(a, id);
        assert.equal(was?.phase, 'failed', 'the start reports the killed backup');
        assert.match(was?.error ?? '', /^interrupted: the process stopped during the backup/);
        assert.deepEqual((await snapshot(a)).peers, beforeBackups.peers);
        const again = await backup(a, passphrase);
        if (passphrase && point === 'nearly-done') keep = again;
        else ok(await api(a, 'DELETE', `/api/config/backups/${again}`), 204);
        checkLeftovers(a, true);
      });
    }
  }
  test('restore killed while unpacking: the cell is exactly as before, its sessions kept', async () => {
    atKeep = await snapshot(a);
    // The cell changes after the backup: a peer goes, another comes.
    ok(await api(a, 'DELETE', '/api/peers/phone'), 200);
    ok(await api(a, 'POST', '/api/peers?qr=false', { name: 'watch' }), 201);
    const changed = await snapshot(a);
    assert.notDeepEqual(changed.peers, atKeep.peers);
    const oldSession = a.session;
    ok(await api(a, 'POST', `/api/config/restore/${keep}`, { passphrase: PASS }), 202);
    await pollUntil(
      a,
      keep,
      'a fifth unpacked',
      (j) =>
        j?.phase === 'unpacking' &&
        !!j.bytes_total &&
        j.bytes_done > j.bytes_total * 0.2 &&
        j.bytes_done < j.bytes_total * 0.8,
    );
    await a.server.kill9();
    assert.equal(staging(a).length, 1, 'killed mid-unpack: a staging directory');
    assert.equal(statSync(join(a.data, staging(a)[0]!)).mode & 0o777, 0o700);
    assert.ok(!journal(a), 'no journal before verification');
    checkLeftovers(a, false);
    await restart(a);
    await expectState(
      a,
      oldSession,
      { before: changed, backup: atKeep, backupPassword: A_PASSWORD },
      'before',
    );
    const was = await job(a, keep);
    assert.equal(was?.phase, 'failed', 'the start reports the killed restore');
    assert.match(
      was?.error ?? '',
      /^interrupted: the process stopped during the restore .* the cell is as it was/,
    );
  });

  test('restore killed once unpacked (verifying or later): before or after, never a mix', async (t) => {
    const before = await snapshot(a);
    const oldSession = a.session;
    ok(await api(a, 'POST', `/api/config/restore/${keep}`, { passphrase: PASS }), 202);
    const seen = await pollUntil(
      a,
      keep,
      'unpacked',
      (j) => !j || !['queued', 'unpacking'].includes(j.phase),
    );
    await a.server.kill9();
    const committed = journal(a);
    checkLeftovers(a, false);
    await restart(a);
    const expected = committed ? 'backup' : 'either';
    const is = await expectState(
      a,
      oldSession,
      { before, backup: atKeep, backupPassword: A_PASSWORD },
      expected,
    );
    t.diagnostic(
      `killed at ${seen?.phase ?? 'a 401 (sessions ended)'}, journal ${committed}: came back ${is}`,
    );
  });

  test('cell b: another cell, and a small backup of cell a uploaded to it', async () => {
    rmSync(join(a.data, 'bulk'), { recursive: true, force: true });
    small = await backup(a, PASS);
    stateA = await snapshot(a);
    const download = await api(a, 'GET', `/api/config/backups/${small}/download`);
    ok(download, 200);
    await a.server.stop();

    b = await newCell('bravo', B_PASSWORD, ['tablet', 'desk', 'tv'], false);
    bSelf = await backup(b, PASS);
    stateB = await snapshot(b);
    // Every part differs, so a mix of the two cells is seen whatever part it is in.
    for (const key of Object.keys(stateB) as (keyof Snapshot)[])
      assert.notDeepEqual(stateB[key], stateA[key], `${key} differs between the cells`);
    const uploaded = ok(await api(b, 'POST', '/api/config/backups/upload', download.body), 201);
    small = uploaded.backup_id;
  });

  let bIs: Which = 'before';
  for (const step of ['before-journal', 'after-journal', 'after-files'] as const) {
    test(`restore killed ${step} (PIC_TEST_CRASH_AT): ${step === 'before-journal' ? 'as before' : 'finished at start'}`, async () => {
      if (bIs === 'backup') {
        // Cell b back to its own state first (a restore that is not killed).
        b.password = B_PASSWORD;
        ok(await api(b, 'POST', `/api/config/restore/${bSelf}`, { passphrase: PASS }), 202);
        const j = await finished(b, bSelf);
        assert.equal(j.phase, 'done', j.error);
        assert.deepEqual(await snapshot(b), stateB);
        checkLeftovers(b, true);
      }
      await b.server.stop();
      b.server = await startServe(b.data, { ...KNOBS, PIC_TEST_CRASH_AT: step });
      const oldSession = b.session;
      ok(await api(b, 'POST', `/api/config/restore/${small}`, { passphrase: PASS }), 202);
      const end = await exitedWithin(b.server.exited, 30_000);
      assert.equal(end.signal, 'SIGKILL', b.server.output());
      assert.equal(staging(b).length, 1, 'a staging directory');
      assert.equal(journal(b), step !== 'before-journal', 'the journal is written between the two steps');
      if (step === 'after-files') {
        // The files are the backup's, the database rows still this cell's: only the start may finish it.
        assert.equal(readFileSync(join(b.data, 'secrets', 'marker'), 'utf8'), stateA.marker);
        assert.deepEqual(usersOf(b), stateB.users);
      }
      checkLeftovers(b, false);
      await restart(b);
      const expected = step === 'before-journal' ? 'before' : 'backup';
      bIs = await expectState(
        b,
        oldSession,
        { before: stateB, backup: stateA, backupPassword: A_PASSWORD },
        expected,
      );
    });
  }

  test('cell b after the kills: it works and a new backup succeeds', async () => {
    await backup(b, PASS);
    checkLeftovers(b, true);
    await b.server.stop();
  });
});
