// kill -9 of a real `pic serve` in the middle of a restore's volume step (issue 11, part 3): the
// journal keeps the staging directory through that step, so the next start puts every volume back and
// the cell is the backup's, volumes included: never its files from the backup and a volume half
// emptied. The volume is a directory in a container from the local debian:bookworm-slim, reached
// through this machine's Docker engine (PIC_TEST_VOLUMES, a test knob of the composition root).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { skipReason, volumeContainer } from '../drivers/docker/volume-container-kit.ts';
import {
  api,
  backup,
  type Cell,
  checkLeftovers,
  cleanUp,
  exitedWithin,
  finished,
  journal,
  KNOBS,
  login,
  newCell,
  ok,
  PASS,
  snapshot,
  staging,
} from './backup-crash-kit.ts';
import { startServe } from './serve-process-kit.ts';

const skip = await skipReason();
const data = volumeContainer(`pic-crashvol-${randomBytes(4).toString('hex')}`);
const VOLUMES = JSON.stringify([{ service: 'notes', volume: 'data', container: data.name, path: '/data' }]);
const { sh } = data;
const tree = () => data.tree();

after(async () => {
  await cleanUp();
  await data.remove();
});

describe('kill -9 of pic serve during the volume step of a restore', { skip, timeout: 300_000 }, () => {
  let c: Cell;
  before(() =>
    data.start(
      ['mkdir', '-p', '/data/notes'],
      ['sh', '-c', 'echo kept > /data/notes/a.md && echo "second file" > /data/z.txt'],
      // Larger than the 1 MiB at which the test hook kills: the import is cut in the middle.
      ['dd', 'if=/dev/urandom', 'of=/data/blob.bin', 'bs=1M', 'count=6', 'status=none'],
    ),
  );

  test('the next start puts the volume back: the cell and its volume are the backup’s', async (t) => {
    c = await newCell('charlie', 'charlie admin password', ['phone'], false);
    await c.server.stop();
    c.server = await startServe(c.data, { ...KNOBS, PIC_TEST_VOLUMES: VOLUMES });
    const original = await tree();
    const id = await backup(c, PASS);
    const atBackup = await snapshot(c);

    // After the backup: another peer, and the volume changed (a file gone, one new, one altered).
    ok(await api(c, 'POST', '/api/peers?qr=false', { name: 'later' }), 201);
    await sh(['sh', '-c', 'rm /data/z.txt && echo new > /data/new.txt && echo changed > /data/notes/a.md']);
    const changed = await tree();
    assert.notDeepEqual(changed, original);

    await c.server.stop();
    c.server = await startServe(c.data, {
      ...KNOBS,
      PIC_TEST_VOLUMES: VOLUMES,
      PIC_TEST_CRASH_AT: 'during-volumes',
    });
    ok(await api(c, 'POST', `/api/config/restore/${id}`, { passphrase: PASS }), 202);
    const end = await exitedWithin(c.server.exited, 60_000);
    assert.equal(end.signal, 'SIGKILL', c.server.output());
    assert.ok(journal(c), 'the journal is kept through the volume step');
    assert.equal(staging(c).length, 1, 'and the staging directory it names');
    const cut = await tree();
    assert.notDeepEqual(cut, original, 'killed in the middle: the volume is not the backup’s yet');
    t.diagnostic(`volume when killed: ${cut.length} entries (${changed.length} before the restore)`);
    checkLeftovers(c, false);

    c.server = await startServe(c.data, { ...KNOBS, PIC_TEST_VOLUMES: VOLUMES });
    for (let i = 0; i < 600 && (journal(c) || staging(c).length > 0); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await tree(), original, 'the volume is the backup’s, whole');
    c.password = 'charlie admin password';
    c.session = await login(c);
    assert.deepEqual(await snapshot(c), atBackup, 'and so is the rest of the cell');
    checkLeftovers(c, true);
    assert.ok(!existsSync(join(c.data, 'restore-journal.json')));

    // A restore not killed ends with no journal and the same volume.
    await sh(['sh', '-c', 'echo again > /data/z.txt']);
    ok(await api(c, 'POST', `/api/config/restore/${id}`, { passphrase: PASS }), 202);
    const j = await finished(c, id);
    assert.equal(j.phase, 'done', j.error);
    assert.deepEqual(await tree(), original);
    assert.ok(!journal(c) && staging(c).length === 0);
    await c.server.stop();
  });
});
