// store_index_url in the cell config and in PUT /api/config's patch: https, or http only on loopback;
// no credentials, no fragment, one line; '' in a patch removes it (ConfigService).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cellConfigSchema, configPatchSchema, defaultConfig } from '../schema/config.ts';
import { ConfigService } from './config-service.ts';
import { AppError } from './errors.ts';
import type { ConfigRepository } from './ports/config-repository.ts';

const good = [
  'https://store.example.org/index.json',
  'https://store.example.org:8443/pic/index.json?channel=stable',
  'http://127.0.0.1:8080/index.json',
  'http://[::1]:9000/index.json',
];
const bad = [
  'http://store.example.org/index.json', // plain http off loopback
  'http://localhost/index.json', // a name can resolve anywhere: only the literal loopback addresses
  'https://user:secret@store.example.org/index.json',
  'https://store.example.org/index.json#frag',
  'ftp://store.example.org/index.json',
  'file:///etc/passwd',
  'https://store.example.org/a b',
  'https://store.example.org/\nindex.json',
  'store.example.org/index.json',
  `https://store.example.org/${'a'.repeat(2100)}`,
];

test('store_index_url: the URLs a cell may fetch its index from', () => {
  for (const url of good) {
    assert.ok(cellConfigSchema.safeParse({ ...defaultConfig(), store_index_url: url }).success, url);
    assert.ok(configPatchSchema.safeParse({ store_index_url: url }).success, url);
  }
  for (const url of bad) {
    const r = configPatchSchema.safeParse({ store_index_url: url });
    assert.ok(!r.success, url);
    assert.deepEqual(r.error.issues[0]?.path, ['store_index_url'], url);
    assert.ok(!cellConfigSchema.safeParse({ ...defaultConfig(), store_index_url: url }).success, url);
  }
  assert.ok(cellConfigSchema.safeParse(defaultConfig()).success, 'absent is the default');
});

test('ConfigService: store_index_url is set, kept by other patches, and removed with null', () => {
  let saved: unknown;
  const repo: ConfigRepository = {
    load: () => (saved ? { current: structuredClone(saved), applied: structuredClone(saved) } : undefined),
    save: (current) => {
      saved = structuredClone(current);
    },
  };
  const config = new ConfigService(repo);
  const url = 'https://store.example.org/index.json';
  assert.equal(config.update({ store_index_url: url }).config.store_index_url, url);
  assert.equal(config.applied().store_index_url, url, 'it applies live');
  assert.equal(config.update({ image_verification: 'warn' }).config.store_index_url, url);
  assert.equal(config.pending().pending, false);
  assert.throws(() => config.update({ store_index_url: '' }), AppError, "'' is not a URL (null removes it)");
  const cleared = config.update({ store_index_url: null }).config;
  assert.equal('store_index_url' in cleared, false);
  assert.throws(
    () => config.update({ store_index_url: 'http://store.example.org/' } as never),
    (e) => e instanceof AppError && e.fields?.[0]?.field === 'store_index_url',
  );
});
