// The signature vectors (issue 12): images pushed to Debian's docker-registry on loopback, signed with
// node:crypto in cosign's `.sig` layout, verified by core's policy through the registry driver.
// Each way a signature can be wrong is one test; so are the three modes.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { ImageRegistry } from '../../core/ports/image-registry.ts';
import {
  type SignatureLayer,
  sha256Of,
  signatureConfig,
  signatureManifest,
  signatureTag,
  signPayload,
  simpleSigningPayload,
  trustedKeys,
} from '../../core/service-store/cosign.ts';
import {
  type VerificationDeps,
  type VerificationMode,
  verifyImage,
} from '../../core/service-store/image-verification.ts';
import { registryClient } from './registry-client.ts';
import {
  type LoopbackRegistry,
  pushBlobRaw,
  pushImage,
  pushManifestRaw,
  startRegistry,
} from './registry-kit.ts';

const pair = () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    pub: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    priv: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
};
const trusted = pair();
const stranger = pair();

let reg: LoopbackRegistry;
let lying: Server | undefined;
before(async () => {
  reg = await startRegistry();
});
after(async () => {
  await reg?.stop();
  lying?.closeAllConnections();
  lying?.close();
});

const warnings: Array<{ fields: Record<string, unknown>; msg: string }> = [];
function deps(registry: ImageRegistry = registryClient({ timeoutMs: 5_000 })): VerificationDeps {
  return {
    registry,
    keys: trustedKeys([trusted.pub]),
    recordedBuild: () => undefined,
    log: { warn: (fields, msg) => warnings.push({ fields, msg }) },
  };
}

interface SigSpec {
  key: string;
  /** The digest the payload names (default: the image's own). */
  names?: string;
  /** Changes the payload after signing (the pushed blob is the changed one). */
  alter?: (payload: Buffer) => Buffer;
}

/** Pushes `repo@digest`'s `.sig` tag with one layer per spec, straight through the HTTP API. */
async function pushSignatures(repository: string, digest: string, specs: SigSpec[]): Promise<void> {
  const layers: SignatureLayer[] = [];
  for (const s of specs) {
    const named = { kind: 'digest' as const, registry: reg.registry, repository, digest: s.names ?? digest };
    const signed = simpleSigningPayload(named);
    const signature = signPayload(signed, s.key);
    const payload = s.alter ? s.alter(signed) : signed;
    await pushBlobRaw(reg.registry, repository, payload);
    layers.push({ digest: sha256Of(payload), size: payload.length, signature });
  }
  const config = signatureConfig(layers.map((l) => l.digest));
  await pushBlobRaw(reg.registry, repository, config);
  await pushManifestRaw(reg.registry, repository, signatureTag(digest), signatureManifest(config, layers));
}

let n = 0;
async function image(specs: SigSpec[] | undefined): Promise<string> {
  const repository = `pic/vector-${++n}`;
  const digest = await pushImage(reg.registry, repository, 'v1', String(n));
  if (specs) await pushSignatures(repository, digest, specs);
  return `${reg.registry}/${repository}@${digest}`;
}

const verify = (reference: string, mode: VerificationMode = 'enforce', d = deps()) =>
  verifyImage({ source: 'registry', reference }, mode, d);

test('good: signed by a trusted key over this digest → verified, naming the key', async () => {
  const ref = await image([{ key: trusted.priv }]);
  const r = await verify(ref);
  assert.deepEqual(r, {
    verdict: 'verified',
    image: ref,
    checked: 'signature',
    keyId: trustedKeys([trusted.pub])[0]?.id,
  });
});

test('wrong key: signed by a key the cell does not trust → refused (bad_signature)', async () => {
  const r = await verify(await image([{ key: stranger.priv }]));
  assert.equal(r.verdict, 'refused');
  assert.equal(r.verdict === 'refused' && r.failure.reason, 'bad_signature');
});

test('altered payload: the pushed payload differs from the signed one → refused (bad_signature)', async () => {
  const alter = (p: Buffer) => Buffer.from(p.toString().replace('"optional":null', '"optional":{"x":1}'));
  const r = await verify(await image([{ key: trusted.priv, alter }]));
  assert.equal(r.verdict === 'refused' && r.failure.reason, 'bad_signature');
});

test('a valid signature over another digest → refused (wrong_image)', async () => {
  const other = (await image(undefined)).split('@')[1];
  const r = await verify(await image([{ key: trusted.priv, names: other }]));
  assert.equal(r.verdict === 'refused' && r.failure.reason, 'wrong_image');
});

test('unsigned: no .sig tag → refused (unsigned)', async () => {
  const r = await verify(await image(undefined));
  assert.equal(r.verdict === 'refused' && r.failure.reason, 'unsigned');
});

test('one good signature among bad ones is enough (cosign appends a layer per signing)', async () => {
  const r = await verify(await image([{ key: stranger.priv }, { key: trusted.priv }]));
  assert.equal(r.verdict, 'verified');
});

test('a registry serving bytes that do not match the digest → refused (manifest_digest_mismatch)', async () => {
  lying = createServer((_req, res) => res.end('{"schemaVersion":2,"layers":[]}'));
  await new Promise<void>((r) => lying?.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(lying.address() as AddressInfo).port}`;
  const r = await verify(`${host}/pic/liar@sha256:${'2'.repeat(64)}`);
  assert.equal(r.verdict === 'refused' && r.failure.reason, 'manifest_digest_mismatch');
});

test('a tag-only reference: enforce refuses, warn logs and proceeds, off skips without a request', async () => {
  const ref = `${reg.registry}/pic/tagged:v1`;
  await pushImage(reg.registry, 'pic/tagged', 'v1');
  const enforce = await verify(ref, 'enforce');
  assert.equal(enforce.verdict === 'refused' && enforce.failure.reason, 'not_digest_pinned');
  warnings.length = 0;
  const warn = await verify(ref, 'warn');
  assert.equal(warn.verdict, 'warned');
  assert.equal(warnings.length, 1);
  assert.deepEqual(warnings[0]?.fields, { image: ref, reason: 'not_digest_pinned', mode: 'warn' });
  assert.match(warnings[0]?.msg ?? '', /proceeding/);
  const untouchable = new Proxy({} as ImageRegistry, {
    get: () => () => assert.fail('off must not reach the registry'),
  });
  assert.deepEqual(await verify(ref, 'off', deps(untouchable)), { verdict: 'skipped', image: ref });
});

test('warn: a bad signature is logged and the image proceeds', async () => {
  warnings.length = 0;
  const r = await verify(await image([{ key: stranger.priv }]), 'warn');
  assert.equal(r.verdict, 'warned');
  assert.equal(warnings[0]?.fields.reason, 'bad_signature');
});
