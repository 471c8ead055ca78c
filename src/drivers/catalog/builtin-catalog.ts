// The built-in catalog of store services: images/store/<id>/manifest.json, one folder per service, in
// the repository (and in cell-api's image, which copies images/store/). Each manifest must pass the
// schema and sit in a folder named after its id, because the folder is where its image is built from
// (`image.build` is relative to it) and a mismatch would build one service from another's files.
// A broken built-in manifest is a bug in this repository: every problem is reported at once.
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseServiceManifest, type ServiceManifest } from '../../schema/service-manifest.ts';

export const BUILTIN_CATALOG_DIR = resolve(import.meta.dirname, '..', '..', '..', 'images', 'store');

/** A manifest is a few kilobytes; a bigger file is not one. */
const MAX_MANIFEST_BYTES = 64 * 1024;

export interface CatalogEntry {
  manifest: ServiceManifest;
  /** The service's folder (absolute): the base of its containers' `image.build` directories. */
  dir: string;
}

export class CatalogError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`the built-in service catalog is broken:\n  ${problems.join('\n  ')}`);
    this.name = 'CatalogError';
    this.problems = problems;
  }
}

/** Every built-in service, sorted by id; none when the catalog folder is absent. */
export async function loadBuiltinCatalog(catalogDir = BUILTIN_CATALOG_DIR): Promise<CatalogEntry[]> {
  let folders: string[];
  try {
    const entries = await readdir(catalogDir, { withFileTypes: true });
    // Files beside the folders (a README) are not services, nor is keys/ (the bundled signing keys).
    folders = entries.filter((e) => e.isDirectory() && e.name !== 'keys').map((e) => e.name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const problems: string[] = [];
  const out: CatalogEntry[] = [];
  for (const folder of folders.sort()) {
    const dir = join(catalogDir, folder);
    const file = join(dir, 'manifest.json');
    const where = `${folder}/manifest.json`;
    let json: unknown;
    try {
      const text = await readFile(file, 'utf8');
      if (text.length > MAX_MANIFEST_BYTES) {
        problems.push(`${where}: larger than ${MAX_MANIFEST_BYTES} bytes`);
        continue;
      }
      json = JSON.parse(text);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      problems.push(`${where}: ${code === 'ENOENT' ? 'missing' : `not JSON (${(e as Error).message})`}`);
      continue;
    }
    const parsed = parseServiceManifest(json);
    if (!parsed.ok) {
      for (const p of parsed.problems) problems.push(`${where}: ${p.path}: ${p.message}`);
      continue;
    }
    if (parsed.manifest.id !== folder) {
      problems.push(`${where}: id ${parsed.manifest.id} differs from its folder name ${folder}`);
      continue;
    }
    out.push({ manifest: parsed.manifest, dir });
  }
  if (problems.length > 0) throw new CatalogError(problems);
  return out;
}
