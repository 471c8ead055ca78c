// Builds an image from a folder of this repository (a store service's `image.build` context) on the
// local engine, the way scripts/build-images.sh builds the core images: never pulls (the FROM image
// must be local; scripts/base-images.sh makes debian:bookworm-slim), and skips the build when the
// inputs did not change — the hash of the base image's ID and every context file's path, mode and
// content, kept in the image's `org.pic.inputs` label. The image ID it returns is what the store
// records at build and pins (ADR 0007: an image built here from this repository's Dockerfiles).
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import tar from 'tar-stream';

export const INPUTS_LABEL = 'org.pic.inputs';

/** A build context is a few small files; a bigger one is a mistake (a data folder, node_modules). */
const MAX_CONTEXT_FILES = 200;
const MAX_CONTEXT_BYTES = 16 * 1024 * 1024;

export interface BuildImageOptions {
  /** Absolute path of the build context (holds the Dockerfile). */
  context: string;
  /** Tag given to the image, such as pic/store-calendar-radicale:latest. */
  tag: string;
  /** Extra labels (the inputs label is always set). */
  labels?: Record<string, string>;
  /** Build even when the inputs did not change. */
  force?: boolean;
  /** Each line of the builder's output, as it comes (progress for the UI). */
  onLine?: (line: string) => void;
}

export interface BuiltImage {
  id: string;
  tag: string;
  inputs: string;
  /** false when the existing image already had these inputs. */
  built: boolean;
}

export class ImageBuildError extends Error {
  readonly log: string[];
  constructor(message: string, log: string[] = []) {
    super(message);
    this.name = 'ImageBuildError';
    this.log = log;
  }
}

interface ContextFile {
  rel: string;
  mode: number;
  body: Buffer;
}

/** Regular files and folders only: a symlink could carry a file from outside the context. */
async function readContext(root: string): Promise<ContextFile[]> {
  const files: ContextFile[] = [];
  let bytes = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const st = await lstat(path);
      if (st.isDirectory()) await walk(path);
      else if (st.isFile()) {
        bytes += st.size;
        if (files.length >= MAX_CONTEXT_FILES || bytes > MAX_CONTEXT_BYTES)
          throw new ImageBuildError(`build context ${root} is larger than a build context should be`);
        files.push({ rel: relative(root, path), mode: st.mode & 0o7777, body: await readFile(path) });
      } else
        throw new ImageBuildError(`build context ${root}: ${relative(root, path)} is not a regular file`);
    }
  };
  await walk(root);
  return files;
}

function inputsHash(baseId: string, files: ContextFile[]): string {
  const h = createHash('sha256').update(`base ${baseId}\n`);
  for (const f of files) {
    const sum = createHash('sha256').update(f.body).digest('hex');
    h.update(`${f.rel} ${f.mode.toString(8)} ${sum}\n`);
  }
  return h.digest('hex').slice(0, 32);
}

async function imageInfo(docker: Docker, ref: string): Promise<Docker.ImageInspectInfo | undefined> {
  try {
    return await docker.getImage(ref).inspect();
  } catch {
    return undefined;
  }
}

/** The context as a tar stream with fixed owners and times, so the builder's cache keys only on content. */
function packContext(files: ContextFile[]): NodeJS.ReadableStream {
  const pack = tar.pack();
  const mtime = new Date(0);
  for (const f of files) pack.entry({ name: f.rel, mode: f.mode, mtime, uid: 0, gid: 0 }, f.body);
  pack.finalize();
  // tar-stream's streams are streamx ones; the engine client takes a Node stream.
  return pack.pipe(new PassThrough());
}

/** Reads the builder's JSON lines; rejects on an error line. */
async function followBuild(
  stream: NodeJS.ReadableStream,
  onLine: ((line: string) => void) | undefined,
): Promise<string[]> {
  const log: string[] = [];
  let rest = '';
  let failure: string | undefined;
  const take = (raw: string) => {
    if (!raw.trim()) return;
    let msg: { stream?: string; error?: string; errorDetail?: { message?: string } };
    try {
      msg = JSON.parse(raw);
    } catch {
      return;
    }
    if (msg.error) failure = msg.errorDetail?.message ?? msg.error;
    for (const line of (msg.stream ?? msg.error ?? '').split('\n')) {
      if (!line.trim()) continue;
      log.push(line);
      if (log.length > 400) log.shift();
      onLine?.(line);
    }
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    rest += chunk.toString();
    const lines = rest.split('\n');
    rest = lines.pop() ?? '';
    lines.forEach(take);
  }
  take(rest);
  if (failure) throw new ImageBuildError(`docker build failed: ${failure}`, log.slice(-40));
  return log;
}

export async function buildImage(docker: Docker, opts: BuildImageOptions): Promise<BuiltImage> {
  const files = await readContext(opts.context);
  const dockerfile = files.find((f) => f.rel === 'Dockerfile');
  if (!dockerfile) throw new ImageBuildError(`no Dockerfile in ${opts.context}`);
  const base = /^FROM\s+(\S+)/im.exec(dockerfile.body.toString())?.[1];
  if (!base) throw new ImageBuildError(`${opts.context}/Dockerfile has no FROM`);
  const baseInfo = await imageInfo(docker, base);
  if (!baseInfo)
    throw new ImageBuildError(`base image ${base} is not a local image (scripts/base-images.sh creates it)`);
  const inputs = inputsHash(baseInfo.Id, files);

  const current = await imageInfo(docker, opts.tag);
  if (!opts.force && current?.Config.Labels?.[INPUTS_LABEL] === inputs)
    return { id: current.Id, tag: opts.tag, inputs, built: false };

  const stream = await docker.buildImage(packContext(files), {
    t: opts.tag,
    labels: { ...opts.labels, [INPUTS_LABEL]: inputs },
    rm: true,
    forcerm: true,
  });
  await followBuild(stream, opts.onLine);
  const built = await imageInfo(docker, opts.tag);
  if (built?.Config.Labels?.[INPUTS_LABEL] !== inputs)
    throw new ImageBuildError(`docker build of ${opts.tag} ended without the image`);
  // Drop the image this build replaced when nothing uses it any more (it carried our tag).
  if (current && current.Id !== built.Id)
    await docker
      .getImage(current.Id)
      .remove()
      .catch(() => undefined);
  return { id: built.Id, tag: opts.tag, inputs, built: true };
}
