// `pic store keygen|sign|verify|publish` for service authors (the spec's "Build a Store Service"): a
// key pair, a cosign-compatible signature pushed to the image's registry as its `.sig` tag, the same
// check a cell makes before running the image, and the whole way from a service folder to an index
// entry a cell installs (docs/store/publish.md). The private key is read from a file only — never an argument
// or the environment, where every process on the host could read it — and a key file that others
// can read is refused, as ssh does.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { trustedKeys } from '../../core/service-store/cosign.ts';
import { alwaysHeldPorts } from '../../core/service-store/held-ports.ts';
import { verifyImage } from '../../core/service-store/image-verification.ts';
import { parsePublishTarget, publishService } from '../../core/service-store/publish-service.ts';
import { signImage } from '../../core/service-store/sign-image.ts';
import { writeFileAtomic } from '../../drivers/atomic-file.ts';
import { loadBuiltinCatalog } from '../../drivers/catalog/builtin-catalog.ts';
import { DockerEngine } from '../../drivers/docker/engine.ts';
import { imagePublisher } from '../../drivers/docker/image-publisher.ts';
import { type RegistryCredentials, registryClient } from '../../drivers/registry/registry-client.ts';
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
  Registries on 127.0.0.1/localhost are reached over http, all others over https; no credentials.
pic store publish --key FILE --registry HOST[:PORT][/PATH] --index FILE [--auth-file FILE] DIR
  Publishes the service folder DIR (manifest.json and its Dockerfile): checks the manifest as a cell
  would, builds each image.build container (docker build), pushes it through the Docker engine to
  HOST[:PORT]/PATH/<id>:<version>, pins the digest the registry serves, signs it (as sign does),
  verifies the signature, and writes the manifest with image.ref = HOST/PATH/<id>@sha256:<digest>
  into the index FILE (created, or its entry of the same id replaced) that store_index_url serves.
  Registry credentials (HTTP Basic), if the registry needs them: --auth-file FILE (JSON
  {"username": …, "password": …}, not readable by others) or the PIC_REGISTRY_USERNAME and
  PIC_REGISTRY_PASSWORD environment variables; never an argument.`;

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

/** A manifest or an index is a few kilobytes to a megabyte; a bigger file is not one. */
const MAX_JSON_FILE = 1024 * 1024;

function readJsonFile(file: string, what: string): unknown {
  const text = readFileSync(file, 'utf8');
  if (text.length > MAX_JSON_FILE) throw new Error(`${what} ${file} is larger than ${MAX_JSON_FILE} bytes`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${what} ${file} is not JSON (${(e as Error).message})`);
  }
}

function registryCredentials(authFile: string | undefined): RegistryCredentials | undefined {
  const fromEnv = process.env.PIC_REGISTRY_USERNAME || process.env.PIC_REGISTRY_PASSWORD;
  if (authFile && fromEnv)
    throw new UsageError(
      'give the registry credentials either in --auth-file or in the environment, not both',
    );
  let raw: unknown;
  if (authFile) {
    const text = readPrivateKey(authFile); // same rule as a key: 0600
    try {
      raw = JSON.parse(text);
    } catch {
      // Not JSON.parse's message: it quotes the text, which holds the password.
      throw new Error(`${authFile} is not JSON ({"username": …, "password": …})`);
    }
  } else if (fromEnv)
    raw = { username: process.env.PIC_REGISTRY_USERNAME, password: process.env.PIC_REGISTRY_PASSWORD };
  else return undefined;
  const { username, password } = (raw ?? {}) as Record<string, unknown>;
  const ok = (v: unknown, max: number): v is string =>
    typeof v === 'string' &&
    v.length > 0 &&
    v.length <= max &&
    ![...v].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);
  // No ':' in the username: HTTP Basic could not tell where it ends.
  if (!ok(username, 256) || username.includes(':') || !ok(password, 4096))
    throw new Error(
      'the registry credentials need a username (no ":" or control characters) and a password (no control characters)',
    );
  return { username, password };
}

async function publish(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      key: { type: 'string' },
      registry: { type: 'string' },
      index: { type: 'string' },
      'auth-file': { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (!values.key) throw new UsageError('--key FILE is required');
  if (!values.registry) throw new UsageError('--registry HOST[:PORT][/PATH] is required');
  if (!values.index) throw new UsageError('--index FILE is required');
  if (positionals.length !== 1)
    throw new UsageError('expected one service folder (manifest.json and a Dockerfile)');
  const target = parsePublishTarget(values.registry);
  if (typeof target === 'string') throw new UsageError(`--registry: ${target}`);
  const dir = resolve(positionals[0] as string);
  const manifestFile = join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) throw new Error(`${dir} has no manifest.json`);
  const manifest = readJsonFile(manifestFile, 'the manifest');
  const indexFile = resolve(values.index);
  const index = existsSync(indexFile) ? readJsonFile(indexFile, 'the index') : undefined;
  const privateKeyPem = readPrivateKey(values.key);
  const credentials = registryCredentials(values['auth-file']);
  const engine = new DockerEngine();
  const registry = registryClient(credentials ? { credentials } : {});
  const result = await publishService(
    { dir, manifest, target, privateKeyPem, ...(index === undefined ? {} : { index }) },
    {
      publisher: imagePublisher({
        docker: engine.docker,
        registry: target.registry,
        ...(credentials ? { credentials } : {}),
      }),
      registry,
      builtin: await loadBuiltinCatalog(),
      heldPorts: alwaysHeldPorts(),
      log: (line) => console.error(line),
    },
  );
  writeFileAtomic(indexFile, `${JSON.stringify(result.index, null, 2)}\n`, { mode: 0o644 });
  for (const i of result.images) console.log(`published: ${i.ref} (signed: ${i.signatureTag})`);
  console.log(`index: ${indexFile} (${result.index.services.length} service(s))`);
  console.log(`key: sha256 ${result.keyId}: add its cosign.pub to the cell (POST /api/store/keys)`);
  return 0;
}

export async function store(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'keygen') return keygen(rest);
  if (sub === 'sign') return sign(rest);
  if (sub === 'verify') return verify(rest);
  if (sub === 'publish') return publish(rest);
  throw new UsageError('expected keygen, sign, verify or publish');
}
