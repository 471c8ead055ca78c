// Test helper (not shipped behaviour): Debian's docker-registry (distribution 2.8) on a loopback port
// with a temp storage directory, and pushes made with plain HTTP API calls (independent of the
// driver under test, so a bug there cannot hide behind a matching bug here). Nothing off this machine.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../acme/pebble-kit.ts';

export interface LoopbackRegistry {
  /** host:port, as an image reference names it (127.0.0.1:NNNNN). */
  registry: string;
  stop(): Promise<void>;
}

export const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function answering(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode})`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('docker-registry is not answering');
}

export async function startRegistry(): Promise<LoopbackRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'pic-registry-'));
  const port = await freePort();
  // Like /etc/docker/registry/config.yml, minus the htpasswd auth, on loopback, storage in the temp dir.
  writeFileSync(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '  secret: loopback-test-registry-only',
      '',
    ].join('\n'),
  );
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await answering(`http://127.0.0.1:${port}/v2/`, child);
  } catch (err) {
    await stop();
    throw err;
  }
  return { registry: `127.0.0.1:${port}`, stop };
}

/** A monolithic blob upload: POST starts it, PUT with ?digest= completes it. */
export async function pushBlobRaw(registry: string, repo: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const start = await fetch(`http://${registry}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`upload start: HTTP ${start.status}`);
  const url = new URL(start.headers.get('location') ?? '', `http://${registry}`);
  url.searchParams.set('digest', digest);
  const put = await fetch(url, { method: 'PUT', body: new Uint8Array(bytes) });
  if (put.status !== 201) throw new Error(`upload: HTTP ${put.status} ${await put.text()}`);
  return digest;
}

export async function pushManifestRaw(
  registry: string,
  repo: string,
  reference: string,
  bytes: Buffer,
  mediaType = 'application/vnd.oci.image.manifest.v1+json',
): Promise<string> {
  const put = await fetch(`http://${registry}/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    headers: { 'content-type': mediaType },
    body: new Uint8Array(bytes),
  });
  if (put.status !== 201) throw new Error(`manifest: HTTP ${put.status} ${await put.text()}`);
  return sha256(bytes);
}

/** A small image (a config and one layer) under `tag`; returns the manifest digest. */
export async function pushImage(registry: string, repo: string, tag: string, seed = 'x'): Promise<string> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, seed }));
  const layer = Buffer.from(`not really a tarball: ${seed}`);
  const blobs = [await pushBlobRaw(registry, repo, config), await pushBlobRaw(registry, repo, layer)];
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        size: config.length,
        digest: blobs[0],
      },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', size: layer.length, digest: blobs[1] }],
    }),
  );
  return pushManifestRaw(registry, repo, tag, manifest);
}
