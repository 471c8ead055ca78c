// Directory backup targets (ADR 0022) are mounted into cell-api alone, each at /backup-targets/<id>
// (never at its host path), marked external (never created or taken over by `pic up`); the set is
// sorted by id and deduplicated, so the same targets give the same spec, and a change of them
// recreates cell-api only. A path outside /mnt/, /media/ or /srv/ is never mounted, whatever the
// caller hands in. Golden: the compose file.
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
  const text = renderCompose(
    desiredState({
      ...input,
      backupDirs: [
        { id: 2, path: '/srv/nas/pic' },
        { id: 1, path: '/mnt/usb/pic' },
      ],
    }),
  );
  if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN, text);
  assert.equal(text, readFileSync(GOLDEN, 'utf8'));
});

test('only cell-api gets them, at /backup-targets/<id>, external; order and repeats do not matter', () => {
  const plain = desiredState(input);
  const a = desiredState({
    ...input,
    backupDirs: [
      { id: 7, path: '/srv/b' },
      { id: 3, path: '/mnt/a' },
      { id: 7, path: '/srv/b' },
    ],
  });
  const b = desiredState({
    ...input,
    backupDirs: [
      { id: 3, path: '/mnt/a' },
      { id: 7, path: '/srv/b' },
    ],
  });
  const api = a.containers.find((c) => c.service === 'api')!;
  assert.deepEqual(
    api.binds.filter((x) => x.external),
    [
      { host: '/mnt/a', container: '/backup-targets/3', readOnly: false, uid: 1000, external: true },
      { host: '/srv/b', container: '/backup-targets/7', readOnly: false, uid: 1000, external: true },
    ],
  );
  for (const [i, c] of a.containers.entries()) {
    const same = specHash(c, 'img') === specHash(plain.containers[i]!, 'img');
    assert.equal(same, c.service !== 'api', c.service);
    assert.equal(specHash(c, 'img'), specHash(b.containers[i]!, 'img'));
    if (c.service !== 'api') assert.ok(!c.binds.some((x) => x.external));
  }
});

test('a path or id the schema refuses is never mounted (a crafted restore), whatever the caller hands in', () => {
  const hostile = ['/etc', '/', '/data', '/app', '/root', '/opt/pic', '/var/run', '/mnt', '/mnt/../etc'];
  const s = desiredState({
    ...input,
    backupDirs: [
      ...hostile.map((path, i) => ({ id: i + 1, path })),
      { id: 0, path: '/mnt/usb/zero' },
      { id: -1, path: '/mnt/usb/neg' },
      { id: 1.5, path: '/mnt/usb/frac' },
    ],
  });
  const api = s.containers.find((c) => c.service === 'api')!;
  assert.deepEqual(
    api.binds.filter((x) => x.external),
    [],
  );
  for (const c of s.containers) for (const x of c.binds) assert.ok(!hostile.includes(x.host), x.host);
});
