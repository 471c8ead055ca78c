// Directory backup targets (ADR 0022) are mounted into cell-api alone, each at its host path, marked
// external (never created or taken over by `pic up`); the set is sorted and deduplicated, so the same
// targets give the same spec, and a change of them recreates cell-api only. Golden: the compose file.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultConfig } from '../../schema/config.ts';
import { renderCompose } from '../compose.ts';
import { desiredState } from './desired-state.ts';
import { specHash } from './spec-hash.ts';

const GOLDEN = join(import.meta.dirname, '..', 'golden', 'compose-backup-targets.golden.yml');
const input = { config: defaultConfig(), env: {}, cellDir: '/opt/pic', dockerGid: 998 };

test('the cell with two directory targets renders as its golden file (UPDATE_GOLDEN=1 regenerates)', () => {
  const text = renderCompose(desiredState({ ...input, backupDirs: ['/srv/nas/pic', '/mnt/usb/pic'] }));
  if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN, text);
  assert.equal(text, readFileSync(GOLDEN, 'utf8'));
});

test('only cell-api gets them, at the same path, external; order and repeats do not matter', () => {
  const plain = desiredState(input);
  const a = desiredState({ ...input, backupDirs: ['/srv/b', '/mnt/a', '/srv/b'] });
  const b = desiredState({ ...input, backupDirs: ['/mnt/a', '/srv/b'] });
  const api = a.containers.find((c) => c.service === 'api')!;
  assert.deepEqual(
    api.binds.filter((x) => x.external),
    ['/mnt/a', '/srv/b'].map((p) => ({ host: p, container: p, readOnly: false, uid: 1000, external: true })),
  );
  for (const [i, c] of a.containers.entries()) {
    const same = specHash(c, 'img') === specHash(plain.containers[i]!, 'img');
    assert.equal(same, c.service !== 'api', c.service);
    assert.equal(specHash(c, 'img'), specHash(b.containers[i]!, 'img'));
    if (c.service !== 'api') assert.ok(!c.binds.some((x) => x.external));
  }
});
