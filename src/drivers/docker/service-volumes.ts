// Service volumes through the Docker API (issue 11): a volume leaves its container as the tar of
// GET /containers/<id>/archive (what `docker cp` reads) and comes back through PUT of the same,
// streamed both ways (nothing is buffered: memory stays flat on a volume of any size). Before an
// import the directory is emptied by `find <path> -xdev -mindepth 1 -delete` run in the container as
// its own user (root when it names none) (argv, no shell; -xdev: never into another file system mounted below it), so the result
// is the backup's contents and nothing else. The declarations come from the composition root: the
// service store's manifests, once it exists.
import type { Readable } from 'node:stream';
import type { ServiceVolumesPort } from '../../core/ports/service-volumes.ts';
import { type ServiceVolume, serviceVolumeSchema } from '../../schema/backup.ts';
import type { DockerEngine } from './engine.ts';

export function dockerServiceVolumes(
  engine: Pick<DockerEngine, 'docker' | 'exec'>,
  list: () => ServiceVolume[] | Promise<ServiceVolume[]>,
): ServiceVolumesPort {
  return {
    list: async () => list(),
    async export(v) {
      const { container, path } = checked(v);
      return (await engine.docker.getContainer(container).getArchive({ path })) as Readable;
    },
    async import(v, tar) {
      const { container, path } = checked(v);
      abandoned(tar);
      // As the container's own user when it has one: the store gives it the volume, and a container
      // with every capability dropped (webmail) leaves root unable to enter a 0700 directory it does
      // not own. Without a user, root (with what capabilities the service holds).
      const user = (await engine.docker.getContainer(container).inspect()).Config.User || '0';
      const emptied = await engine.exec(container, ['find', path, '-xdev', '-mindepth', '1', '-delete'], {
        user,
      });
      if (emptied.exitCode !== 0)
        throw new Error(
          `could not empty ${path} in ${container} (find exited ${emptied.exitCode}): ${emptied.stderr.trim().slice(0, 500)}`,
        );
      // The tar's producer may have failed while the directory was emptied: its error is not re-emitted.
      abandoned(tar);
      await engine.docker.getContainer(container).putArchive(tar, { path });
    },
  };
}

/** The path and names reach a process and a URL: parsed by their allow-lists first. */
function checked(v: ServiceVolume): ServiceVolume {
  const parsed = serviceVolumeSchema.safeParse(v);
  if (!parsed.success)
    throw new Error(
      `volume ${JSON.stringify(`${v.service}/${v.volume}`)}: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

function abandoned(tar: Readable): void {
  if (tar.destroyed) throw tar.errored ?? new Error('the volume tar was abandoned');
}
