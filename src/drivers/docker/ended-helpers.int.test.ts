// The sweep of abandoned helper containers on the real engine: an exited helper goes; a helper not
// started yet, a running one, a young exited one (its writer may still read it) and an exited store
// service container stay.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
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
after(async () => {
  for (const id of made)
    await engine.docker
      .getContainer(id)
      .remove({ force: true })
      .catch(() => undefined);
});

async function container(storeId: string, cmd: string[], state: 'created' | 'running' | 'exited') {
  const c = await engine.docker.createContainer({
    name: `pic-test-helper-${tag}-${made.length}`,
    Image: BASE_IMAGE,
    Cmd: cmd,
    Labels: { [LABELS.managed]: 'true', [LABELS.storeId]: storeId, 'org.pic.test': mine.split('=')[1]! },
    HostConfig: { NetworkMode: 'none' },
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
  await removeEndedHelpers(engine, undefined, mine);
  for (const id of [ended, endedPrep, notStarted, running, service]) assert.ok(await exists(id));

  // Made "long enough ago" (a limit of 0): the two exited helpers go, nothing else.
  assert.equal(await removeEndedHelpers(engine, 0, mine), 2);
  assert.equal(await exists(ended), false);
  assert.equal(await exists(endedPrep), false);
  for (const id of [notStarted, running, service]) assert.ok(await exists(id), id);
});
