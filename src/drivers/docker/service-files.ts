// Files the store writes into a volume of a service (core's ServiceFilesPort; its certificates,
// issue 13): `data/services/<id>/<volume>/<name>`, each file atomically (a temp file beside it, given
// its owner and mode, fsynced, renamed over), so a daemon that reads it meanwhile sees the old file or
// the new one, never a torn one or one it may not read. As root on the host (tests, a host command)
// directly; otherwise (cell-api inside the cell runs as its own user and sees none of the host's
// directories) through a one-off container of the base image that mounts the volume: the temp files
// go in through the engine's archive API (owner and mode in the tar headers, the content never in an
// argument), then a fixed `sync` + `mv` renames each.
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceFile, ServiceFilesPort } from '../../core/ports/service-hooks.ts';
import { LABELS } from '../../schema/runtime.ts';
import { serviceVolumeHostPath } from '../../schema/service-manifest.ts';
import { writeFileAtomic } from '../atomic-file.ts';
import { HELPER_KINDS, removeEndedHelpers } from './ended-helpers.ts';
import type { DockerEngine } from './engine.ts';
import { BASE_IMAGE } from './service-engine.ts';

const FILE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const SLUG = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;

function volumeDir(cellDir: string, id: string, volume: string): string {
  if (!SLUG.test(id) || !SLUG.test(volume)) throw new Error('not a service id or volume name');
  return join(cellDir, serviceVolumeHostPath(id, volume));
}

function checkNames(files: readonly ServiceFile[]): void {
  for (const f of files) if (!FILE_NAME.test(f.name)) throw new Error(`not a plain file name: ${f.name}`);
}

/** `viaContainer`: always through the engine, even as root (tests of the path cell-api takes). */
export function serviceFiles(opts: {
  cellDir: string;
  engine?: DockerEngine;
  viaContainer?: boolean;
}): ServiceFilesPort {
  return {
    async write(id, volume, files, owner) {
      checkNames(files);
      const dir = volumeDir(opts.cellDir, id, volume);
      if (!opts.engine || (process.getuid?.() === 0 && !opts.viaContainer))
        return writeDirect(dir, files, owner);
      return writeWithContainer(opts.engine, dir, files, owner);
    },
  };
}

function writeDirect(dir: string, files: readonly ServiceFile[], owner: { uid: number; gid: number }): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // The volume's directory itself, never a link a container left in its place.
  if (!lstatSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
  const root = process.getuid?.() === 0;
  for (const f of files)
    writeFileAtomic(join(dir, f.name), f.content, { mode: f.mode, ...(root ? { owner } : {}) });
}

/** The renames, in one fixed script: its arguments are pairs of plain file names made here. */
const RENAME =
  'set -e; cd /v; while [ "$#" -gt 0 ]; do sync -- "$1"; mv -f -T -- "$1" "$2"; shift 2; done; sync .';

async function writeWithContainer(
  engine: DockerEngine,
  dir: string,
  files: readonly ServiceFile[],
  owner: { uid: number; gid: number },
): Promise<void> {
  if (!dir.startsWith('/') || dir.includes(':')) throw new Error(`not a bind source: ${dir}`);
  const tag = randomBytes(6).toString('hex');
  const temps = files.map((f) => ({ ...f, temp: `.pic-tmp-${f.name}.${tag}` }));
  await removeEndedHelpers(engine);
  const c = await engine.docker.createContainer({
    Image: BASE_IMAGE,
    User: '0',
    Cmd: ['sh', '-c', RENAME, 'sh', ...temps.flatMap((t) => [t.temp, t.name])],
    Labels: { [LABELS.managed]: 'true', [LABELS.storeId]: HELPER_KINDS.files },
    HostConfig: {
      Binds: [`${dir}:/v`],
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      CapAdd: ['DAC_OVERRIDE', 'FOWNER'],
      SecurityOpt: ['no-new-privileges'],
    },
  });
  try {
    await c.putArchive(
      tarOf(temps.map((t) => ({ name: t.temp, content: t.content, mode: t.mode, ...owner }))),
      { path: '/v' },
    );
    await c.start();
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    if (StatusCode !== 0) {
      const log = (await c.logs({ stdout: true, stderr: true })).toString().trim().slice(-300);
      throw new Error(`writing into ${dir} failed (exit ${StatusCode}): ${log}`);
    }
  } finally {
    await c.remove({ force: true }).catch(() => undefined);
  }
}

/** A minimal ustar archive of regular files (names under 100 bytes, as checked above). */
export function tarOf(
  entries: ReadonlyArray<{ name: string; content: string; mode: number; uid: number; gid: number }>,
): Buffer {
  const blocks: Buffer[] = [];
  const octal = (n: number, len: number) => `${n.toString(8).padStart(len - 1, '0')}\0`;
  for (const e of entries) {
    const body = Buffer.from(e.content);
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100, 'utf8');
    h.write(octal(e.mode & 0o7777, 8), 100, 'ascii');
    h.write(octal(e.uid, 8), 108, 'ascii');
    h.write(octal(e.gid, 8), 116, 'ascii');
    h.write(octal(body.length, 12), 124, 'ascii');
    h.write(octal(Math.floor(Date.now() / 1000), 12), 136, 'ascii');
    h.write('        ', 148, 'ascii');
    h.write('0', 156, 'ascii');
    h.write('ustar\u000000', 257, 'ascii');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
