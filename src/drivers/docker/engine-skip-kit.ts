// Test kit (not shipped behaviour): why a test that needs this machine's Docker engine and the local
// base image cannot run here, naming the script that provides each, or false. One check for every
// test file and kit that runs containers (they skip, not fail, on a machine without them).
import { DockerEngine } from './engine.ts';
import { BASE_IMAGE } from './service-engine.ts';

export async function engineSkipReason(
  engine: Pick<DockerEngine, 'reachable' | 'imageId'> = new DockerEngine(),
  image: string = BASE_IMAGE,
): Promise<string | false> {
  if (!(await engine.reachable()))
    return 'the Docker engine is not reachable (scripts/ensure-docker.sh starts it)';
  if (!(await engine.imageId(image)))
    return `${image} is not a local image (scripts/base-images.sh creates it)`;
  return false;
}
