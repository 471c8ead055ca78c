// The store signing keys bundled with PIC: every `*.pub` in images/store/keys/ (copied into cell-api's
// image with images/store/). None is bundled today; the folder is where one goes.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_CATALOG_DIR } from './builtin-catalog.ts';

export const BUNDLED_KEYS_DIR = join(BUILTIN_CATALOG_DIR, 'keys');

/** A PEM public key is a few hundred bytes. */
const MAX_KEY_BYTES = 4096;

/** The PEM text of each bundled key, sorted by file name; none when the folder is absent. */
export function loadBundledKeys(dir = BUNDLED_KEYS_DIR): string[] {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.pub'))
      .map((e) => e.name)
      .sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names.map((n) => {
    const text = readFileSync(join(dir, n), 'utf8');
    if (text.length > MAX_KEY_BYTES)
      throw new Error(`bundled store key ${n} is larger than ${MAX_KEY_BYTES} bytes`);
    return text;
  });
}
