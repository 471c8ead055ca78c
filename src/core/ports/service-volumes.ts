// The live data volumes of installed services, as a backup reads them and a restore writes them
// (issue 11). Each installed service's manifest declares its volumes (the service store fills the
// list); the Docker driver streams them out of, and back into, the running containers.
import type { Readable } from 'node:stream';
import type { ServiceVolume } from '../../schema/backup.ts';

export interface ServiceVolumesPort {
  /** The volumes of the services installed now (none until the service store declares them). */
  list(): Promise<ServiceVolume[]>;
  /**
   * A tar stream of the volume's directory, as `docker cp` (and `tar -C <parent> <name>`) makes it:
   * every entry under one top directory, the path's last segment. Read it to the end or destroy it.
   */
  export(v: ServiceVolume): Promise<Readable>;
  /**
   * Replaces the directory's contents with the tar's (entries relative to the directory, ownership,
   * modes and times as the tar says); resolves once the whole tar is in. Nothing is stopped here: a
   * service that must not see its data replaced under it is stopped around this (the store's part).
   */
  import(v: ServiceVolume, tar: Readable): Promise<void>;
}
