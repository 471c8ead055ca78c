import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import {
  CosignFormatError,
  checkSignature,
  SIGNATURE_ANNOTATION,
  SIMPLESIGNING_MEDIA_TYPE,
  sha256Of,
  signatureConfig,
  signatureLayers,
  signatureManifest,
  signatureTag,
  signPayload,
  simpleSigningPayload,
  trustedKeys,
} from './cosign.ts';

const pem = (curve: string) => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
  return {
    pub: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    priv: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
};
const k = pem('prime256v1');
const DIGEST = `sha256:${'c'.repeat(64)}`;
const ref = {
  kind: 'digest' as const,
  registry: 'registry.example.org',
  repository: 'pic/cal',
  digest: DIGEST,
};

test('the signature tag and the payload follow cosign byte for byte', () => {
  assert.equal(signatureTag(DIGEST), `sha256-${'c'.repeat(64)}.sig`);
  assert.equal(
    simpleSigningPayload(ref).toString(),
    `{"critical":{"identity":{"docker-reference":"registry.example.org/pic/cal"},"image":{"docker-manifest-digest":"${DIGEST}"},"type":"cosign container image signature"},"optional":null}`,
  );
});

test('only ECDSA P-256 public keys are trusted', () => {
  assert.equal(trustedKeys([k.pub])[0]?.id.length, 64);
  assert.throws(() => trustedKeys([pem('secp384r1').pub]), CosignFormatError);
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
    type: 'spki',
    format: 'pem',
  });
  assert.throws(() => trustedKeys([rsa.toString()]), /not an ECDSA P-256/);
  assert.throws(() => trustedKeys(['not a key']), /not a PEM public key/);
  assert.throws(() => signPayload(Buffer.from('x'), pem('secp384r1').priv), /P-256 private key/);
});

test('a manifest round-trips through signatureLayers; other layers are ignored, malformed ones refused', () => {
  const payload = simpleSigningPayload(ref);
  const layer = { digest: sha256Of(payload), size: payload.length, signature: signPayload(payload, k.priv) };
  const m = signatureManifest(signatureConfig([layer.digest]), [layer]);
  assert.deepEqual(signatureLayers(m), [layer]);
  const doc = JSON.parse(m.toString());
  doc.layers.push({ mediaType: 'application/octet-stream', digest: layer.digest, size: 1 });
  assert.deepEqual(signatureLayers(Buffer.from(JSON.stringify(doc))), [layer]);
  doc.layers.push({ mediaType: SIMPLESIGNING_MEDIA_TYPE, digest: layer.digest, size: 1, annotations: {} });
  assert.throws(() => signatureLayers(Buffer.from(JSON.stringify(doc))), CosignFormatError);
  const evil = { layers: [{ ...doc.layers[0], annotations: { [SIGNATURE_ANNOTATION]: 'a\nb' } }] };
  assert.throws(() => signatureLayers(Buffer.from(JSON.stringify(evil))), CosignFormatError);
  assert.throws(() => signatureLayers(Buffer.from('nope')), /not JSON/);
  assert.throws(
    () => signatureLayers(Buffer.from(JSON.stringify({ layers: Array(33).fill({}) }))),
    /more than/,
  );
});

test('checkSignature: good, wrong key, altered bytes, another digest, a payload that is not cosign', () => {
  const keys = trustedKeys([k.pub]);
  const layerFor = (payload: Buffer, key = k.priv) => ({
    digest: sha256Of(payload),
    size: payload.length,
    signature: signPayload(payload, key),
  });
  const payload = simpleSigningPayload(ref);
  assert.deepEqual(checkSignature(layerFor(payload), payload, DIGEST, keys), {
    ok: true,
    keyId: keys[0]?.id,
  });
  const reason = (r: ReturnType<typeof checkSignature>) => (r.ok ? 'ok' : r.reason);
  assert.equal(
    reason(checkSignature(layerFor(payload, pem('prime256v1').priv), payload, DIGEST, keys)),
    'bad_signature',
  );
  const altered = Buffer.from(payload.toString().replace('cal', 'cak'));
  assert.equal(reason(checkSignature(layerFor(payload), altered, DIGEST, keys)), 'payload_digest_mismatch');
  const resigned = { ...layerFor(payload), digest: sha256Of(altered) };
  assert.equal(reason(checkSignature(resigned, altered, DIGEST, keys)), 'bad_signature');
  assert.equal(
    reason(checkSignature(layerFor(payload), payload, `sha256:${'d'.repeat(64)}`, keys)),
    'wrong_image',
  );
  const notCosign = Buffer.from('{"critical":{"type":"something else"}}');
  assert.equal(reason(checkSignature(layerFor(notCosign), notCosign, DIGEST, keys)), 'malformed_payload');
  const garbage = { ...layerFor(payload), signature: 'AAAAAAAAAAAA' };
  assert.equal(reason(checkSignature(garbage, payload, DIGEST, keys)), 'bad_signature');
  assert.equal(reason(checkSignature(layerFor(payload), payload, DIGEST, [])), 'bad_signature');
});
