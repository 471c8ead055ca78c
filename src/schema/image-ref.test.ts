import assert from 'node:assert/strict';
import { test } from 'node:test';
import { digestImageRef, formatImageRef, parseImageRef } from './image-ref.ts';

const HEX = 'a'.repeat(64);

test('digest references parse into registry, repository and digest', () => {
  for (const [text, registry, repository] of [
    [`registry.example.org/pic/calendar@sha256:${HEX}`, 'registry.example.org', 'pic/calendar'],
    [`127.0.0.1:5000/store/files/web@sha256:${HEX}`, '127.0.0.1:5000', 'store/files/web'],
    [`localhost/a@sha256:${HEX}`, 'localhost', 'a'],
    [`ghcr.io/some-org/my__svc.x@sha256:${HEX}`, 'ghcr.io', 'some-org/my__svc.x'],
  ] as const) {
    const r = parseImageRef(text);
    assert.ok(r.ok, text);
    assert.deepEqual(r.ref, { kind: 'digest', registry, repository, digest: `sha256:${HEX}` });
    assert.equal(formatImageRef(r.ref), text);
  }
});

test('tag references parse as tags (so enforce can name what it refuses)', () => {
  const r = parseImageRef('registry.example.org:8443/pic/calendar:1.2.3');
  assert.ok(r.ok);
  assert.deepEqual(r.ref, {
    kind: 'tag',
    registry: 'registry.example.org:8443',
    repository: 'pic/calendar',
    tag: '1.2.3',
  });
});

test('malformed and hostile references are refused with a reason', () => {
  const bad = [
    '',
    'nginx',
    `library/nginx@sha256:${HEX}`, // no registry host: would mean some default registry
    'registry.example.org/pic/calendar', // implicit :latest
    `registry.example.org/pic/calendar:1@sha256:${HEX}`, // tag and digest
    `registry.example.org/pic/calendar@sha256:${'A'.repeat(64)}`,
    `registry.example.org/pic/calendar@sha256:${HEX.slice(1)}`,
    `registry.example.org/pic/calendar@sha512:${HEX}${HEX}`,
    `registry.example.org/Pic/calendar@sha256:${HEX}`,
    `registry.example.org/pic//calendar@sha256:${HEX}`,
    `registry.example.org/../calendar@sha256:${HEX}`,
    `registry.example.org/pic/calendar@sha256:${HEX}\n`,
    `registry.example.org/pic/cal endar@sha256:${HEX}`,
    `registry.example.org/pic/calendar\0@sha256:${HEX}`,
    `registry.example.org:0/pic@sha256:${HEX}`,
    `registry.example.org:99999/pic@sha256:${HEX}`,
    `user@registry.example.org/pic@sha256:${HEX}`,
    `https://registry.example.org/pic@sha256:${HEX}`,
    `registry.example.org/pic:-bad`,
    `registry.example.org/pic:${'t'.repeat(129)}`,
    `registry.example.org/${'a/'.repeat(300)}x@sha256:${HEX}`,
    `régistry.example.org/pic@sha256:${HEX}`,
  ];
  for (const text of bad) {
    const r = parseImageRef(text);
    assert.equal(r.ok, false, JSON.stringify(text));
    if (!r.ok) assert.ok(r.reason.length > 0);
  }
});

test('digestImageRef accepts digests only', () => {
  assert.equal(digestImageRef.safeParse(`example.org/a@sha256:${HEX}`).success, true);
  const tag = digestImageRef.safeParse('example.org/a:1');
  assert.equal(tag.success, false);
  assert.match(tag.error?.issues[0]?.message ?? '', /pinned by digest/);
  assert.equal(digestImageRef.safeParse(42).success, false);
});
