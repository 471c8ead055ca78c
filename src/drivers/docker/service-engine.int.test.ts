// A store volume's directory made through the engine, as cell-api does inside the cell (not root, no
// view of the host's directories): Docker creates it, a one-off container of the base image gives it
// to the service's user with the bind's mode, and the container goes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LABELS } from '../../schema/runtime.ts';
import { DockerEngine } from './engine.ts';
import { engineSkipReason } from './engine-skip-kit.ts';
import { prepareWithContainer } from './service-engine.ts';

const engine = new DockerEngine();
const skip = await engineSkipReason(engine);
const dir = mkdtempSync(join(tmpdir(), 'pic-volprep-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a missing volume directory is made, owned by the service user, mode 0700, and no container is left', {
  skip,
}, async () => {
  const host = join(dir, 'data', 'services', 'calendar', 'data');
  await prepareWithContainer(engine, {
    host,
    container: '/v',
    readOnly: false,
    uid: 932,
    gid: 932,
    shallow: true,
  });
  const st = statSync(host);
  assert.equal(st.uid, 932);
  assert.equal(st.gid, 932);
  assert.equal(st.mode & 0o7777, 0o700);
  const left = await engine.docker.listContainers({
    all: true,
    filters: { label: [`${LABELS.storeId}=volume-preparation`] },
  });
  assert.deepEqual(left, []);
  await assert.rejects(
    prepareWithContainer(engine, { host: `${dir}/x:/etc`, container: '/v', readOnly: false, uid: 1 }),
    /not a bind source/,
  );
});
