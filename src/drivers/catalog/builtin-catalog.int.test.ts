// The catalog loader on temporary catalog folders: good manifests load sorted by id, and every broken
// one (bad JSON, a schema problem, a folder named unlike its id, no manifest) is reported by path.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CatalogError, loadBuiltinCatalog } from './builtin-catalog.ts';

const roots: string[] = [];
after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

function manifest(id: string, extra: object = {}) {
  return {
    schema_version: 1,
    id,
    name: id,
    description: `the ${id} service`,
    version: '1.0.0',
    kind: 'app',
    containers: [{ name: 'app', image: { build: '.' } }],
    ...extra,
  };
}

async function catalog(folders: Record<string, unknown>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'pic-catalog-'));
  roots.push(root);
  for (const [folder, content] of Object.entries(folders)) {
    await mkdir(join(root, folder));
    if (content === undefined) continue;
    const text = typeof content === 'string' ? content : JSON.stringify(content);
    await writeFile(join(root, folder, 'manifest.json'), text);
  }
  return root;
}

async function problemsOf(root: string): Promise<string[]> {
  try {
    await loadBuiltinCatalog(root);
  } catch (e) {
    assert.ok(e instanceof CatalogError, String(e));
    return e.problems;
  }
  assert.fail('the broken catalog loaded');
}

test('good manifests load, sorted by id, each with its folder; files beside them are ignored', async () => {
  const root = await catalog({ notes: manifest('notes'), chat: manifest('chat') });
  await writeFile(join(root, 'README.md'), 'not a service');
  const entries = await loadBuiltinCatalog(root);
  assert.deepEqual(
    entries.map((e) => [e.manifest.id, e.dir]),
    [
      ['chat', join(root, 'chat')],
      ['notes', join(root, 'notes')],
    ],
  );
});

test('an absent catalog folder is an empty catalog', async () => {
  assert.deepEqual(await loadBuiltinCatalog(join(tmpdir(), 'pic-no-such-catalog')), []);
});

test('every broken manifest is reported at once, by file and field', async () => {
  const root = await catalog({
    good: manifest('good'),
    json: '{ "id": ',
    empty: undefined,
    renamed: manifest('other'),
    tagged: manifest('tagged', {
      containers: [{ name: 'app', image: { ref: 'registry.example.org/pic/tagged:latest' } }],
    }),
    strict: manifest('strict', { privileged_everything: true }),
  });
  const problems = await problemsOf(root);
  const expect = [
    /^empty\/manifest\.json: missing$/,
    /^json\/manifest\.json: not JSON/,
    /^renamed\/manifest\.json: id other differs from its folder name renamed$/,
    /^strict\/manifest\.json: \(manifest\): .*privileged_everything/,
    /^tagged\/manifest\.json: containers\.0\.image\.ref: .*digest/,
  ];
  assert.equal(problems.length, expect.length, problems.join('\n'));
  for (const [i, re] of expect.entries()) assert.match(problems[i]!, re);
});

test('an oversized manifest is refused without parsing', async () => {
  const root = await catalog({ big: `${JSON.stringify(manifest('big'))}${' '.repeat(70_000)}` });
  assert.deepEqual(await problemsOf(root), ['big/manifest.json: larger than 65536 bytes']);
});
