// `pic store keygen|sign|verify` as an author runs them, against Debian's docker-registry on loopback:
// the key pair's modes, a signature a cell accepts (checked by the CLI and by core directly), a second
// signature appended rather than replacing the first, and refusals (open key file, tag, wrong key).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { signatureLayers, signatureTag, trustedKeys } from '../../core/service-store/cosign.ts';
import { verifyImage } from '../../core/service-store/image-verification.ts';
import { registryClient } from '../../drivers/registry/registry-client.ts';
import { type LoopbackRegistry, pushImage, startRegistry } from '../../drivers/registry/registry-kit.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

function pic(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(NODE, [MAIN, ...args], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

let reg: LoopbackRegistry;
let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pic-store-sign-'));
  reg = await startRegistry();
});
after(async () => {
  await reg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('keygen writes a 0600 private key and a public key, and never overwrites them', async () => {
  const r = await pic(['store', 'keygen', '--out', join(dir, 'a')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(statSync(join(dir, 'a', 'cosign.key')).mode & 0o777, 0o600);
  assert.match(readFileSync(join(dir, 'a', 'cosign.pub'), 'utf8'), /BEGIN PUBLIC KEY/);
  assert.equal(trustedKeys([readFileSync(join(dir, 'a', 'cosign.pub'), 'utf8')]).length, 1);
  const again = await pic(['store', 'keygen', '--out', join(dir, 'a')]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /EEXIST|exists/);
});

test('sign pushes a .sig a cell verifies; a second signer is appended; other keys fail', async () => {
  await pic(['store', 'keygen', '--out', join(dir, 'b')]);
  await pic(['store', 'keygen', '--out', join(dir, 'c')]);
  const digest = await pushImage(reg.registry, 'authors/svc', '1.0');
  const ref = `${reg.registry}/authors/svc@${digest}`;
  const signed = await pic(['store', 'sign', '--key', join(dir, 'b', 'cosign.key'), ref]);
  assert.equal(signed.code, 0, signed.stderr);
  assert.match(signed.stdout, /1 signature/);

  const ok = await pic(['store', 'verify', '--pub', join(dir, 'b', 'cosign.pub'), ref]);
  assert.equal(ok.code, 0, ok.stderr);
  const wrong = await pic(['store', 'verify', '--pub', join(dir, 'c', 'cosign.pub'), ref]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /bad_signature/);

  const second = await pic(['store', 'sign', '--key', join(dir, 'c', 'cosign.key'), ref]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /2 signature/);
  const repo = { registry: reg.registry, repository: 'authors/svc' };
  const sig = await registryClient().manifestByTag(repo, signatureTag(digest));
  assert.equal(signatureLayers(sig?.bytes ?? Buffer.alloc(0)).length, 2);
  for (const who of ['b', 'c']) {
    const r = await verifyImage({ source: 'registry', reference: ref }, 'enforce', {
      registry: registryClient(),
      keys: trustedKeys([readFileSync(join(dir, who, 'cosign.pub'), 'utf8')]),
      recordedBuild: () => undefined,
      log: { warn: () => assert.fail('no warning expected') },
    });
    assert.equal(r.verdict, 'verified', who);
  }
});

test('sign refuses a key file others can read, a tag, an absent image, and a key in argv', async () => {
  await pic(['store', 'keygen', '--out', join(dir, 'd')]);
  const key = join(dir, 'd', 'cosign.key');
  const digest = await pushImage(reg.registry, 'authors/other', '1.0', 'other');
  const ref = `${reg.registry}/authors/other@${digest}`;
  chmodSync(key, 0o644);
  const open = await pic(['store', 'sign', '--key', key, ref]);
  assert.equal(open.code, 1);
  assert.match(open.stderr, /readable by others/);
  chmodSync(key, 0o600);
  const tag = await pic(['store', 'sign', '--key', key, `${reg.registry}/authors/other:1.0`]);
  assert.equal(tag.code, 2);
  assert.match(tag.stderr, /is a tag/);
  const absent = await pic([
    'store',
    'sign',
    '--key',
    key,
    `${reg.registry}/authors/other@sha256:${'9'.repeat(64)}`,
  ]);
  assert.equal(absent.code, 1);
  assert.match(absent.stderr, /no manifest/);
  const inline = await pic(['store', 'sign', '--private-key', 'PEM', ref]);
  assert.equal(inline.code, 2);
});
