// `pic store keygen|sign|verify` for service authors (the spec's "Build a Store Service"): a key pair,
// a cosign-compatible signature pushed to the image's registry as its `.sig` tag, and the same check a
// cell makes before running the image. The private key is read from a file only — never an argument
// or the environment, where every process on the host could read it — and a key file that others
// can read is refused, as ssh does.
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { trustedKeys } from '../../core/service-store/cosign.ts';
import { verifyImage } from '../../core/service-store/image-verification.ts';
import { signImage } from '../../core/service-store/sign-image.ts';
import { registryClient } from '../../drivers/registry/registry-client.ts';
import { type DigestImageRef, parseImageRef } from '../../schema/image-ref.ts';
import { UsageError } from '../usage.ts';

export const storeHelp = `pic store keygen --out DIR
  Writes an ECDSA P-256 key pair for signing store images: DIR/cosign.key (PKCS#8 PEM, mode 0600,
  keep it secret) and DIR/cosign.pub (give it to cells). Never overwrites an existing key.
pic store sign --key FILE HOST/REPO@sha256:<hex>
  Signs the image (already pushed) the way \`cosign sign --key\` does and pushes the signature to its
  registry as the tag sha256-<hex>.sig; signatures already there are kept.
pic store verify --pub FILE [--pub FILE...] HOST/REPO@sha256:<hex>
  Checks the image's signature against public keys as a cell in enforce mode would.
  Registries on 127.0.0.1/localhost are reached over http, all others over https; no credentials.`;

const IMAGE_HINT = 'an image pinned by digest: HOST/REPO@sha256:<64 hex>';

function digestRef(text: string | undefined): DigestImageRef {
  if (!text) throw new UsageError(`expected ${IMAGE_HINT}`);
  const p = parseImageRef(text);
  if (!p.ok) throw new UsageError(`the image reference ${p.reason}`);
  if (p.ref.kind !== 'digest') throw new UsageError(`${text} is a tag; expected ${IMAGE_HINT}`);
  return p.ref;
}

function readPrivateKey(file: string): string {
  const st = statSync(file);
  if (!st.isFile()) throw new Error(`${file} is not a file`);
  if ((st.mode & 0o077) !== 0) throw new Error(`${file} is readable by others; chmod 600 it first`);
  return readFileSync(file, 'utf8');
}

function keygen(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { out: { type: 'string' } }, strict: true });
  if (!values.out) throw new UsageError('--out DIR is required');
  mkdirSync(values.out, { recursive: true, mode: 0o700 });
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  // 'wx': an existing key is never replaced (losing it would orphan every signature made with it).
  writeFileSync(join(values.out, 'cosign.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
    flag: 'wx',
  });
  writeFileSync(join(values.out, 'cosign.pub'), publicKey.export({ type: 'spki', format: 'pem' }), {
    mode: 0o644,
    flag: 'wx',
  });
  console.log(join(values.out, 'cosign.pub'));
  return 0;
}

async function sign(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { key: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (!values.key) throw new UsageError('--key FILE is required');
  if (positionals.length !== 1) throw new UsageError(`expected one image, ${IMAGE_HINT}`);
  const ref = digestRef(positionals[0]);
  const signed = await signImage(ref, readPrivateKey(values.key), registryClient());
  console.log(`signed: ${ref.registry}/${ref.repository}:${signed.tag} (${signed.signatures} signature(s))`);
  return 0;
}

async function verify(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { pub: { type: 'string', multiple: true } },
    allowPositionals: true,
    strict: true,
  });
  if (!values.pub?.length) throw new UsageError('--pub FILE is required');
  if (positionals.length !== 1) throw new UsageError(`expected one image, ${IMAGE_HINT}`);
  const reference = positionals[0] as string;
  digestRef(reference);
  const r = await verifyImage({ source: 'registry', reference }, 'enforce', {
    registry: registryClient(),
    keys: trustedKeys(values.pub.map((f) => readFileSync(f, 'utf8'))),
    recordedBuild: () => undefined,
    log: { warn: () => {} }, // the verdict is printed below
  });
  if (r.verdict === 'verified' && r.checked === 'signature') {
    console.log(`verified: ${r.image} (key sha256 ${r.keyId.slice(0, 16)}…)`);
    return 0;
  }
  console.error(
    `not verified: ${r.verdict === 'refused' ? `${r.failure.reason}: ${r.failure.message}` : r.verdict}`,
  );
  return 1;
}

export async function store(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'keygen') return keygen(rest);
  if (sub === 'sign') return sign(rest);
  if (sub === 'verify') return verify(rest);
  throw new UsageError('expected keygen, sign or verify');
}
