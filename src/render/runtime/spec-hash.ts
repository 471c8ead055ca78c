// A stable hash of what a container should be: a change means it must be recreated. Its rendered
// files count (a new chrony.conf recreates cell-ntp), except live ones: those reach the running
// daemon through its own API (Caddy's POST /load), so their content must not recreate the container.
import { createHash } from 'node:crypto';
import type { ContainerSpec } from '../../schema/runtime.ts';
import { canonicalJson } from './canonical-json.ts';

export function specHash(spec: ContainerSpec, imageId: string): string {
  const files = spec.files.map((f) => (f.live ? { path: f.path, live: true } : f));
  return createHash('sha256')
    .update(canonicalJson({ spec: { ...spec, files }, imageId }))
    .digest('hex')
    .slice(0, 16);
}
