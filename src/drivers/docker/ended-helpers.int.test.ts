// The sweep of abandoned helper containers on the real engine: an exited helper goes; a helper not
// started yet, a running one, a young exited one (its writer may still read it) and an exited store
// service container stay. For `pic down` (its cell's directory given): that cell's ended helpers go
// whatever their age, another cell's young one stays.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LABELS } from '../../schema/runtime.ts';
import { HELPER_KINDS, removeEndedHelpers } from './ended-helpers.ts';
import { DockerEngine } from './engine.ts';
import { engineSkipReason } from './engine-skip-kit.ts';
import { BASE_IMAGE } from './service-engine.ts';

const engine = new DockerEngine();
const skip = await engineSkipReason(engine);
const tag = randomBytes(4).toString('hex');
const made: string[] = [];
// Only this test's containers are swept: another test's helper that just exited stays its writer's.
const mine = `org.pic.test=ended-helpers-${tag}`;
const dir = mkdtempSync(join(tmpdir(), 'pic-helpers-'));
after(async () => {
  for (const id of made)
    await engine.docker
      .getContainer(id)
      .remove({ force: true })
      .catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

async function container(
  storeId: string,
  cmd: string[],
  state: 'created' | 'running' | 'exited',
  bind?: string,
) {
  if (bind) mkdirSync(bind, { recursive: true });
  const c = await engine.docker.createContainer({
    name: `pic-test-helper-${tag}-${made.length}`,
    Image: BASE_IMAGE,
    Cmd: cmd,
    Labels: { [LABELS.managed]: 'true', [LABELS.storeId]: storeId, 'org.pic.test': mine.split('=')[1]! },
    HostConfig: { NetworkMode: 'none', ...(bind ? { Binds: [`${bind}:/v`] } : {}) },
  });
  made.push(c.id);
  if (state !== 'created') await c.start();
  if (state === 'exited') await c.wait();
  return c.id;
}

const exists = (id: string) =>
  engine.docker
    .getContainer(id)
    .inspect()
    .then(
      () => true,
      () => false,
    );

test('only exited helpers older than the limit are removed', { skip }, async () => {
  const ended = await container(HELPER_KINDS.files, ['true'], 'exited');
  const endedPrep = await container(HELPER_KINDS.preparation, ['true'], 'exited');
  const notStarted = await container(HELPER_KINDS.files, ['true'], 'created');
  const running = await container(HELPER_KINDS.files, ['sleep', '60'], 'running');
  const service = await container('calendar', ['true'], 'exited');

  // With the default limit, all of them are too young.
  await removeEndedHelpers(engine, { label: mine });
  for (const id of [ended, endedPrep, notStarted, running, service]) assert.ok(await exists(id));

  // Made "long enough ago" (a limit of 0): the two exited helpers go, nothing else.
  assert.equal(await removeEndedHelpers(engine, { olderThanMs: 0, label: mine }), 2);
  assert.equal(await exists(ended), false);
  assert.equal(await exists(endedPrep), false);
  for (const id of [notStarted, running, service]) assert.ok(await exists(id), id);
});

test("pic down's sweep: the cell's own ended helpers whatever their age, not another cell's", {
  skip,
}, async () => {
  const cellA = join(dir, 'a');
  const cellB = join(dir, 'b');
  const ofA = await container(
    HELPER_KINDS.files,
    ['true'],
    'exited',
    join(cellA, 'data', 'services', 'x', 'tls'),
  );
  const ofB = await container(
    HELPER_KINDS.files,
    ['true'],
    'exited',
    join(cellB, 'data', 'services', 'x', 'tls'),
  );
  // A directory whose name only starts like cell A's is not inside it.
  const beside = await container(HELPER_KINDS.files, ['true'], 'exited', `${cellA}-other/data`);
  assert.equal(await removeEndedHelpers(engine, { cellDir: cellA, label: mine }), 1);
  assert.equal(await exists(ofA), false);
  assert.ok(await exists(ofB));
  assert.ok(await exists(beside));
});
