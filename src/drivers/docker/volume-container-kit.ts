// Test kit (not shipped behaviour) of the backup volume tests (src/api/backup-crash-volumes.int.test.ts,
// src/cli/backup-volumes.int.test.ts): a container from the local debian:bookworm-slim, no network,
// whose /data stands for a store service's volume, reached through this machine's Docker engine;
// commands in it as root, a listing of /data to compare before and after a restore, and its removal
// (anonymous volumes too).
import assert from 'node:assert/strict';
import { DockerEngine } from './engine.ts';
import { engineSkipReason } from './engine-skip-kit.ts';

const IMAGE = 'debian:bookworm-slim';
const engine = new DockerEngine();

/** Why the tests cannot run here, or false. */
export const skipReason = () => engineSkipReason(engine, IMAGE);

export interface VolumeContainer {
  name: string;
  /** Creates and starts the container, then runs each argv of `fill` in it (the volume's files). */
  start(...fill: string[][]): Promise<void>;
  /** argv as root in the container; its stdout (a failure fails the test). */
  sh(argv: string[]): Promise<string>;
  /**
   * Every entry under /data (regular files only with `filesOnly`), sorted, one a line: its path, type,
   * owner, mode and a file's SHA-256.
   */
  tree(opts?: { filesOnly?: boolean }): Promise<string[]>;
  /** Removes the container; nothing when it is gone already. */
  remove(): Promise<void>;
}

export function volumeContainer(name: string): VolumeContainer {
  const sh = async (argv: string[]) => {
    const r = await engine.exec(name, argv, { user: '0' });
    assert.equal(r.exitCode, 0, `${argv.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  return {
    name,
    sh,
    async start(...fill) {
      const made = await engine.docker.createContainer({
        name,
        Image: IMAGE,
        Cmd: ['sleep', 'infinity'],
        HostConfig: { NetworkMode: 'none' },
      });
      await made.start();
      for (const argv of fill) await sh(argv);
    },
    async tree(opts = {}) {
      const which = opts.filesOnly ? '-type f' : '-mindepth 1';
      const listing = await sh([
        'sh',
        '-c',
        `cd /data && find . ${which} -printf "%p %y %U %m " -exec sh -c '[ -f "$1" ] && sha256sum < "$1" || echo' _ {} \\; | sort`,
      ]);
      return listing.trim().split('\n');
    },
    async remove() {
      await engine.docker
        .getContainer(name)
        .remove({ force: true, v: true })
        .catch(() => undefined);
    },
  };
}
