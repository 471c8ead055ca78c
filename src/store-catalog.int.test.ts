// The real built-in catalog (images/store/): every manifest parses, sits in the folder of its id and
// passes the store's policy beside all the others installed at once on a default cell. Its images
// are checked as text (no Docker here): built from debian:bookworm-slim with Debian's packages only,
// services kept from starting during the build, a HEALTHCHECK, every copied file present, and every
// command a hook or health check runs installed by the Dockerfile.
// Root ring: it joins the catalog driver to the core policy, which a driver may not import.
import assert from 'node:assert/strict';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { coreHeldPorts } from './core/service-store/held-ports.ts';
import { checkManifest } from './core/service-store/manifest-policy.ts';
import { loadBuiltinCatalog } from './drivers/catalog/builtin-catalog.ts';
import { desiredState } from './render/runtime/desired-state.ts';
import { defaultConfig } from './schema/config.ts';

const entries = await loadBuiltinCatalog();
const ids = entries.map((e) => e.manifest.id);

test('the built-in catalog holds calendar and files, each from its own folder', () => {
  for (const id of ['calendar', 'files']) assert.ok(ids.includes(id), `${id} missing: ${ids.join(', ')}`);
});

test('every built-in manifest passes the policy with all the others installed', () => {
  const heldPorts = coreHeldPorts(
    desiredState({ config: defaultConfig(), env: {}, cellDir: '/opt/pic', dockerGid: 999 }),
  );
  for (const { manifest } of entries) {
    const installed = entries.map((e) => e.manifest).filter((m) => m.id !== manifest.id);
    const r = checkManifest(manifest, { catalogIds: ids, installed, heldPorts });
    assert.deepEqual(r, { ok: true }, `${manifest.id}: ${JSON.stringify(r)}`);
  }
});

test('every built-in image: Debian bookworm-slim, Debian packages only, no start during the build', () => {
  for (const { manifest, dir } of entries) {
    for (const c of manifest.containers) {
      assert.ok('build' in c.image, `${manifest.id}/${c.name}: a built-in service builds its images`);
      const context = join(dir, c.image.build);
      const file = readFileSync(join(context, 'Dockerfile'), 'utf8');
      const where = `${manifest.id}/${c.image.build}/Dockerfile`;
      assert.deepEqual(file.match(/^FROM .*$/gm), ['FROM debian:bookworm-slim'], where);
      assert.match(file, /policy-rc\.d/, `${where}: no policy-rc.d`);
      assert.match(file, /^HEALTHCHECK /m, `${where}: no HEALTHCHECK`);
      assert.match(file, /apt-get install -y --no-install-recommends/, where);
      assert.doesNotMatch(
        file,
        /\b(curl|wget|pip3?|npm|git clone|ADD)\b/,
        `${where}: something not from Debian`,
      );
      const copies = [...file.matchAll(/^COPY (\S+) (\S+)$/gm)];
      for (const [, src] of copies) {
        assert.ok(existsSync(join(context, src!)), `${where}: COPY ${src} is missing`);
        if (src!.endsWith('.sh')) accessSync(join(context, src!), constants.X_OK);
      }
      const installed = new Set(copies.map(([, , dest]) => dest));
      const runs = [
        c.healthcheck?.test[0],
        ...(manifest.accounts?.container === c.name
          ? [manifest.accounts.add[0], manifest.accounts.remove[0], manifest.accounts.list[0]]
          : []),
      ].filter((x) => x !== undefined);
      for (const cmd of runs) assert.ok(installed.has(cmd), `${where}: ${cmd} is not installed by a COPY`);
    }
  }
});
