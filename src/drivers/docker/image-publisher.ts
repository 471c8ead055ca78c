// Builds and pushes a service author's image (`pic store publish`, core's ImagePublisherPort): the
// build is `docker build` run with an argv array (never a shell) and the classic builder, which uses a
// local FROM image as it is (BuildKit would ask the base image's registry first); the push goes
// through the Docker Engine API, the credentials in its X-Registry-Auth header — never in argv, a
// file Docker keeps (`docker login`), a log line or an error message.
import { execFile } from 'node:child_process';
import type Docker from 'dockerode';
import type { ImagePublisherPort } from '../../core/service-store/publish-service.ts';
import type { RegistryCredentials } from '../registry/registry-client.ts';

export interface ImagePublisherOptions {
  docker: Docker;
  /** The registry (host[:port]) the credentials are for. */
  registry: string;
  credentials?: RegistryCredentials;
  /** The docker CLI (tests may point elsewhere). */
  dockerBin?: string;
  buildTimeoutMs?: number;
  onLine?: (line: string) => void;
}

/** The last lines of a tool's output, for an error message (a build log can be long). */
const tail = (text: string, lines = 12) => text.trim().split('\n').slice(-lines).join('\n');

export function imagePublisher(opts: ImagePublisherOptions): ImagePublisherPort {
  return {
    build(context, tag) {
      return new Promise((resolve, reject) => {
        execFile(
          opts.dockerBin ?? 'docker',
          ['build', '--quiet', '--pull=false', '--tag', tag, '--', context],
          {
            env: { ...process.env, DOCKER_BUILDKIT: '0' },
            timeout: opts.buildTimeoutMs ?? 30 * 60_000,
            maxBuffer: 16 * 1024 * 1024,
          },
          (err, stdout, stderr) => {
            if (err) {
              reject(
                new Error(`docker build failed (${err.code ?? err.signal}):\n${tail(stderr || stdout)}`),
              );
              return;
            }
            const id = /sha256:[a-f0-9]{64}/.exec(stdout)?.[0];
            if (!id) reject(new Error(`docker build printed no image ID: ${tail(stdout)}`));
            else resolve(id);
          },
        );
      });
    },

    async push(tag) {
      // An X-Registry-Auth header is required on every push, even an empty one (anonymous registry).
      const authconfig = opts.credentials
        ? { ...opts.credentials, serveraddress: opts.registry }
        : ({} as Record<string, never>);
      const stream = (await opts.docker
        .getImage(tag)
        .push({ authconfig } as Parameters<
          ReturnType<Docker['getImage']>['push']
        >[0])) as NodeJS.ReadableStream;
      const events = await new Promise<Array<Record<string, unknown>>>((resolve, reject) =>
        opts.docker.modem.followProgress(stream, (err: Error | null, out: Array<Record<string, unknown>>) =>
          err ? reject(err) : resolve(out),
        ),
      );
      for (const e of events) if (typeof e.status === 'string') opts.onLine?.(e.status);
      const failed = events.find((e) => typeof e.error === 'string');
      if (failed) throw new Error(String(failed.error).slice(0, 500));
      const digests = events
        .map((e) => (e.aux as { Digest?: unknown } | undefined)?.Digest)
        .filter((d): d is string => typeof d === 'string');
      const digest = digests.at(-1);
      if (!digest || !/^sha256:[a-f0-9]{64}$/.test(digest))
        throw new Error('the engine reported no manifest digest for the push');
      return digest;
    },
  };
}
