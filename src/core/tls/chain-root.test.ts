import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { rootCertificates } from 'node:tls';
import {
  type CaNames,
  certPem,
  createIntermediate,
  createRoot,
  issueLeaf,
  type KeyAndCert,
  selfSignedLeaf,
} from '../vault/x509.ts';
import { certificateBlocks, chainRoot } from './chain-root.ts';

// A private ACME CA as step-ca or Pebble builds it: a root, an intermediate, a leaf. What the CA
// sends is the leaf and the intermediate; the root is only in the owner's directory_ca.
const NAMES: CaNames = {
  organisation: 'Private ACME',
  root: 'Private Root',
  intermediate: 'Private Issuing',
};
const now = new Date();
let root: KeyAndCert;
let intermediate: KeyAndCert;
let chain: string;
/** Another root with the very same names (and so the same subject) but its own key. */
let lookalike: KeyAndCert;

before(async () => {
  root = await createRoot(NAMES, now, 30);
  intermediate = await createIntermediate(root, NAMES, now, 30);
  lookalike = await createRoot(NAMES, now, 30);
  const leaf = await issueLeaf(
    intermediate,
    { commonName: 'mail.home.example.org', names: ['mail.home.example.org'], days: 7, clientAuth: false },
    now,
  );
  chain = certPem(leaf.cert) + certPem(intermediate.cert);
});

test("a chain without its root: the owner's root that issued its top, verified by signature", () => {
  assert.equal(chainRoot(chain, [certPem(root.cert)]), certPem(root.cert));
  // directory_ca is one text of several certificates (the listener's root beside the issuing root).
  const directoryCa = certPem(lookalike.cert) + certPem(intermediate.cert) + certPem(root.cert);
  assert.equal(chainRoot(chain, [directoryCa, ...rootCertificates]), certPem(root.cert));
});

test('a root with the same subject but another key is not the one', () => {
  assert.equal(chainRoot(chain, [certPem(lookalike.cert)]), undefined);
  assert.equal(chainRoot(chain, [certPem(lookalike.cert), certPem(root.cert)]), certPem(root.cert));
});

test('no known root issued it: undefined, never the intermediate (OpenSSL refuses it as a trust anchor)', () => {
  assert.equal(chainRoot(chain, []), undefined);
  assert.equal(chainRoot(chain, rootCertificates), undefined);
  // An intermediate among the candidates is not a root either.
  assert.equal(chainRoot(chain, [certPem(intermediate.cert)]), undefined);
});

test('a chain that carries its self-signed root gives that root', () => {
  assert.equal(chainRoot(chain + certPem(root.cert), []), certPem(root.cert));
});

test('a self-signed leaf (CA:FALSE) is no root; unparsable candidates and an empty chain are skipped', async () => {
  const self = await selfSignedLeaf(
    { commonName: 'home.example.org', names: ['home.example.org'], days: 7, clientAuth: false },
    'x',
    now,
  );
  assert.equal(chainRoot(certPem(self.cert), [certPem(self.cert)]), undefined);
  const broken = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
  assert.equal(chainRoot(chain, [broken, certPem(root.cert)]), certPem(root.cert));
  assert.equal(chainRoot('', [certPem(root.cert)]), undefined);
  assert.equal(chainRoot(broken, [certPem(root.cert)]), undefined);
});

test('a public chain ends in a root of the bundled store', () => {
  // The first bundled root stands for a public CA: a chain whose top it is resolves to itself.
  const publicRoot = certificateBlocks(rootCertificates[0]!)[0]!;
  assert.equal(chainRoot(publicRoot, []), publicRoot);
});
