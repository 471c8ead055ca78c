// The policy with an in-memory registry: local builds pinned by recorded image ID, the failure reasons
// the registry vectors (src/drivers/registry/image-signatures.int.test.ts) cannot reach, and 422.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { AppError } from '../errors.ts';
import { type FetchedManifest, type ImageRegistry, RegistryError } from '../ports/image-registry.ts';
import { trustedKeys } from './cosign.ts';
import {
  assertMayRun,
  type ImageCandidate,
  ImageUnverifiedError,
  type VerificationDeps,
  verifyImage,
} from './image-verification.ts';

const pub = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  .publicKey.export({ type: 'spki', format: 'pem' })
  .toString();
const ID = `sha256:${'e'.repeat(64)}`;
const REF = `registry.example.org/pic/cal@sha256:${'f'.repeat(64)}`;

function registry(over: Partial<ImageRegistry> = {}): ImageRegistry {
  const manifest: FetchedManifest = { bytes: Buffer.from('{}'), digest: '', mediaType: '' };
  return {
    manifestByDigest: async () => manifest,
    manifestByTag: async () => undefined,
    blob: async () => Buffer.alloc(0),
    pushBlob: async () => '',
    pushManifest: async () => '',
    ...over,
  };
}

function deps(over: Partial<VerificationDeps> = {}): VerificationDeps & { warned: string[] } {
  const warned: string[] = [];
  return {
    registry: registry(),
    keys: trustedKeys([pub]),
    recordedBuild: (name) => (name === 'pic-store/calendar' ? ID : undefined),
    log: { warn: (f) => warned.push(String(f.reason)) },
    warned,
    ...over,
  };
}

const reason = async (c: ImageCandidate, d = deps()) => {
  const r = await verifyImage(c, 'enforce', d);
  return r.verdict === 'refused' ? r.failure.reason : r.verdict;
};

test('a local build runs only under the image ID recorded when this host built it', async () => {
  const local = (name: string, imageId: string): ImageCandidate => ({ source: 'local-build', name, imageId });
  assert.deepEqual(await verifyImage(local('pic-store/calendar', ID), 'enforce', deps()), {
    verdict: 'verified',
    image: 'pic-store/calendar',
    checked: 'local-build',
    imageId: ID,
  });
  assert.equal(await reason(local('pic-store/calendar', `sha256:${'0'.repeat(64)}`)), 'image_id_mismatch');
  assert.equal(await reason(local('pic-store/calendar', 'calendar:latest')), 'image_id_mismatch');
  assert.equal(await reason(local('pic-store/files', ID)), 'not_built_here');
});

test('reasons the registry cannot produce: no keys, an invalid reference, a malformed .sig, an outage', async () => {
  const reg = { source: 'registry' as const, reference: REF };
  assert.equal(await reason(reg, deps({ keys: [] })), 'no_trusted_keys');
  assert.equal(await reason({ source: 'registry', reference: `${REF}\n` }), 'invalid_reference');
  const sig = (bytes: string) =>
    deps({
      registry: registry({
        manifestByTag: async () => ({ bytes: Buffer.from(bytes), digest: '', mediaType: '' }),
      }),
    });
  assert.equal(await reason(reg, sig('not json')), 'malformed_signature');
  assert.equal(await reason(reg, sig('{"layers":[]}')), 'unsigned');
  const down = registry({
    manifestByDigest: async () => {
      throw new RegistryError('timeout', 'the registry did not answer in time');
    },
  });
  assert.equal(await reason(reg, deps({ registry: down })), 'registry_error');
});

test('an invalid reference is never echoed into a result or a log line', async () => {
  const d = deps();
  const r = await verifyImage({ source: 'registry', reference: 'x\ninjected' }, 'warn', d);
  assert.equal(r.image, '(invalid reference)');
  assert.deepEqual(d.warned, ['invalid_reference']);
});

test('assertMayRun throws 422 image_unverified for refused only', async () => {
  const refused = await verifyImage(
    { source: 'registry', reference: 'r.example.org/a:1' },
    'enforce',
    deps(),
  );
  assert.throws(
    () => assertMayRun(refused),
    (e: unknown) =>
      e instanceof ImageUnverifiedError &&
      e instanceof AppError &&
      e.status === 422 &&
      e.failure.reason === 'not_digest_pinned',
  );
  assertMayRun(await verifyImage({ source: 'registry', reference: 'r.example.org/a:1' }, 'warn', deps()));
  assertMayRun(await verifyImage({ source: 'registry', reference: 'r.example.org/a:1' }, 'off', deps()));
});
