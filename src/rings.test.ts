// The ring check (CONTRIBUTING.md, "Code rings"): imports point inward only. Every static import,
// `export … from` and dynamic `import()` of every file under src/ (tests included, in the ring where
// they sit) is parsed with the TypeScript parser and checked against RULES; a violation fails with
// file → import → rule.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

type Ring = 'schema' | 'render' | 'core' | 'drivers' | 'api' | 'cli' | 'root';

/** One import edge, paths relative to the repository root with forward slashes. */
export interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

const ROOT = resolve(import.meta.dirname, '..');

function ringOf(path: string): Ring | undefined {
  const m = /^src\/(schema|render|core|drivers|api|cli)\//.exec(path);
  if (m) return m[1] as Ring;
  // The composition root and this check sit outside the rings and may import any of them.
  if (/^src\/[^/]+$/.test(path)) return 'root';
  return undefined;
}

const ANY: readonly Ring[] = ['schema', 'render', 'core', 'drivers', 'api', 'cli', 'root'];

/** Which rings each ring may import from, and why (the "why" is printed with a violation). */
const RULES: Record<Ring, { may: readonly Ring[]; rule: string }> = {
  schema: { may: ['schema'], rule: 'schema imports nothing of ours' },
  render: { may: ['schema', 'render'], rule: 'render imports schema only' },
  core: { may: ['schema', 'render', 'core'], rule: 'core imports schema, render and its own ports' },
  drivers: {
    may: ['schema', 'render', 'core', 'drivers'],
    rule: "drivers implement core's ports: core types, core/ports and core/errors only; never api, cli or the composition root",
  },
  api: { may: ['schema', 'core', 'api'], rule: 'api imports core and schema (never a driver)' },
  cli: { may: ANY, rule: '' },
  root: { may: ANY, rule: '' },
};

/** What a driver may take from core at run time; anything else of core only as `import type`. */
function driverMayImportCoreValue(to: string): boolean {
  // keys.ts is X25519 key math on node:crypto with no I/O: the server-key driver and the drivers'
  // tests make key pairs with it.
  return to.startsWith('src/core/ports/') || to === 'src/core/errors.ts' || to === 'src/core/peers/keys.ts';
}

/**
 * Named, commented exceptions: [from, to, why]. Keep this list short; each entry is a conscious
 * decision, not a way to silence the check.
 */
const EXCEPTIONS: ReadonlyArray<readonly [string, string, string]> = [
  // The API's integration-test kit builds a real cell (database, stores, services) to inject() into.
  ['src/api/test-kit.ts', 'src/composition.ts', 'test kit'],
  // The peers API end to end against real WireGuard in network namespaces: it needs the API kit.
  ['src/drivers/wireguard/netns.int.test.ts', 'src/api/test-kit.ts', 'test kit'],
  // The DNS records API end to end against a real Unbound the test starts: it needs the API kit.
  ['src/drivers/dns/dns-api.int.test.ts', 'src/api/test-kit.ts', 'test kit'],
  // The TLS API end to end against a real Pebble ACME server the test starts: it needs the API kit.
  ['src/drivers/acme/tls-api.int.test.ts', 'src/api/test-kit.ts', 'test kit'],
  // The blocklists API end to end against a real Unbound, its lists served by a local fake HTTP server.
  ['src/drivers/dns/blocklists-api.int.test.ts', 'src/api/test-kit.ts', 'test kit'],
  ['src/drivers/dns/blocklists-api.int.test.ts', 'src/api/fake-http-kit.ts', 'test kit'],
  // Scheduled backups through the API to the SigV4-checking fake S3: the API kit, and the in-memory
  // backup engine and clock the API tests use.
  ['src/drivers/backup/backup-schedule-s3.int.test.ts', 'src/api/test-kit.ts', 'test kit'],
  ['src/drivers/backup/backup-schedule-s3.int.test.ts', 'src/core/backup/schedule-fakes-kit.ts', 'test kit'],
  // A service volume backed up and restored through the API, out of and into a real container.
  ['src/drivers/docker/service-volumes.int.test.ts', 'src/api/test-kit.ts', 'test kit'],
  // The mail images' tests issue the certificates the store would write with the cell's own X.509
  // code (the same chain a cell's vault makes), so what they verify is what a cell serves.
  ['src/drivers/docker/store-email-image.int.test.ts', 'src/core/vault/x509.ts', 'test certificates'],
  ['src/drivers/docker/store-webmail-image.int.test.ts', 'src/core/vault/x509.ts', 'test certificates'],
  // kill -9 during a restore's volume step: the API process under test imports volumes into a real
  // container, which the test creates and inspects through the engine driver (the container kit it
  // shares with the CLI's volume test).
  ['src/api/backup-crash-volumes.int.test.ts', 'src/drivers/docker/volume-container-kit.ts', 'real engine'],
  // The image signature vectors: core's verifier and signer (pure, node:crypto) against the registry
  // driver and a real docker-registry on loopback.
  ['src/drivers/registry/image-signatures.int.test.ts', 'src/core/service-store/cosign.ts', 'vectors'],
  [
    'src/drivers/registry/image-signatures.int.test.ts',
    'src/core/service-store/image-verification.ts',
    'vectors',
  ],
];

export function violations(
  edges: readonly Edge[],
  exceptions: ReadonlyArray<readonly [string, string, string]> = EXCEPTIONS,
): string[] {
  const out: string[] = [];
  for (const e of edges) {
    if (exceptions.some(([f, t]) => f === e.from && t === e.to)) continue;
    const from = ringOf(e.from);
    const to = ringOf(e.to);
    if (!from) {
      out.push(`${e.from} → ${e.to}: the file sits in no ring (src/<ring>/ or the root)`);
      continue;
    }
    const { may, rule } = RULES[from];
    const ok =
      to !== undefined &&
      may.includes(to) &&
      (from !== 'drivers' || to !== 'core' || e.typeOnly || driverMayImportCoreValue(e.to));
    if (!ok) out.push(`${e.from} → ${e.to}: ${to ? rule : 'imports a file outside src/'}`);
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && /\.tsx?$/.test(d.name))
    .map((d) => join(d.parentPath, d.name));
}

/** Every import of ours (relative specifiers) in one file. */
export function importsOf(file: string, text: string): Edge[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  const from = relative(ROOT, file).split('\\').join('/');
  const edges: Edge[] = [];
  const add = (spec: ts.Expression | undefined, typeOnly: boolean) => {
    if (!spec || !ts.isStringLiteralLike(spec) || !spec.text.startsWith('.')) return;
    const to = relative(ROOT, resolve(dirname(file), spec.text))
      .split('\\')
      .join('/');
    edges.push({ from, to, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const c = node.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings : undefined;
      const typeOnly =
        !!c &&
        (c.isTypeOnly ||
          (!c.name && !!named && named.elements.length > 0 && named.elements.every((s) => s.isTypeOnly)));
      add(node.moduleSpecifier, typeOnly);
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return edges;
}

test('the import graph of src/ points inward only', () => {
  const edges = sourceFiles(join(ROOT, 'src')).flatMap((f) => importsOf(f, readFileSync(f, 'utf8')));
  assert.ok(edges.length > 200, `parsed ${edges.length} imports`);
  const found = violations(edges);
  assert.deepEqual(found, [], `ring violations (file → import: rule):\n  ${found.join('\n  ')}`);
});

test('the check fails on a new violation, and honours exceptions and type-only imports', () => {
  const edge = (from: string, to: string, typeOnly = false): Edge => ({ from, to, typeOnly });
  const graph = [
    edge('src/schema/a.ts', 'src/schema/b.ts'),
    edge('src/render/x.ts', 'src/schema/a.ts'),
    edge('src/core/s.ts', 'src/render/x.ts'),
    edge('src/drivers/d.ts', 'src/core/s.ts', true),
    edge('src/drivers/d.ts', 'src/core/ports/p.ts'),
    edge('src/api/r.ts', 'src/core/s.ts'),
    edge('src/cli/c.ts', 'src/drivers/d.ts'),
    edge('src/composition.ts', 'src/drivers/d.ts'),
  ];
  assert.deepEqual(violations(graph, []), []);
  const bad = [
    edge('src/schema/a.ts', 'src/core/s.ts', true),
    edge('src/render/x.ts', 'src/core/s.ts'),
    edge('src/core/s.ts', 'src/drivers/d.ts', true),
    edge('src/core/s.ts', 'src/api/deps.ts', true),
    edge('src/drivers/d.ts', 'src/core/s.ts'),
    edge('src/api/r.ts', 'src/drivers/d.ts', true),
    edge('src/api/r.ts', 'src/composition.ts'),
    edge('src/core/s.ts', 'test/kit.ts'),
  ];
  const found = violations([...graph, ...bad], []);
  assert.equal(found.length, bad.length, found.join('\n'));
  assert.equal(found[2], 'src/core/s.ts → src/drivers/d.ts: core imports schema, render and its own ports');
  assert.deepEqual(violations(bad.slice(2, 3), [['src/core/s.ts', 'src/drivers/d.ts', 'why']]), []);
});

test('imports are parsed: static, type-only, export-from, dynamic and import types', () => {
  const file = join(ROOT, 'src/core/x.ts');
  const edges = importsOf(
    file,
    [
      "import { a } from './a.ts';",
      "import type { B } from '../drivers/b.ts';",
      "import { type C } from '../api/c.ts';",
      "import { type D, e } from './d.ts';",
      "export { f } from '../schema/f.ts';",
      "export type { G } from '../render/g.ts';",
      "import 'node:fs';",
      "const h = await import('../cli/h.ts');",
      "let i: import('../drivers/i.ts').I;",
    ].join('\n'),
  );
  assert.deepEqual(
    edges.map((e) => `${e.to}${e.typeOnly ? ' (type)' : ''}`),
    [
      'src/core/a.ts',
      'src/drivers/b.ts (type)',
      'src/api/c.ts (type)',
      'src/core/d.ts',
      'src/schema/f.ts',
      'src/render/g.ts (type)',
      'src/cli/h.ts',
      'src/drivers/i.ts (type)',
    ],
  );
});
