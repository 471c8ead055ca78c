// A build step after `vite build` (a plugin, so every way of running it gets it: `npm run build:web`,
// `pic up`, scripts/test.sh): writes `<file>.br`, `<file>.zst` and `<file>.gz` next to each
// compressible file of web/dist. cell-caddy's file_server serves them (`precompressed`, ADR 0018), so
// no UI file is compressed per request; they are compressed once, at the highest levels.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync, zstdCompressSync } from 'node:zlib';
import type { Plugin } from 'vite';

const COMPRESSIBLE = /\.(html|js|mjs|css|svg|json|txt|xml|webmanifest|wasm|map)$/;

/** Suffix → compressor; the suffixes Caddy's `precompressed` modules look for. */
const ENCODERS: Record<string, (b: Buffer) => Buffer> = {
  br: (b) =>
    brotliCompressSync(b, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: b.length,
      },
    }),
  zst: (b) => zstdCompressSync(b, { params: { [constants.ZSTD_c_compressionLevel]: 19 } }),
  gz: (b) => gzipSync(b, { level: constants.Z_BEST_COMPRESSION }),
};

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile()) yield p;
  }
}

/** Writes the compressed copies of every compressible file under `dir`; returns how many. */
export function precompressDir(dir: string): number {
  let n = 0;
  for (const f of [...files(dir)]) {
    if (!COMPRESSIBLE.test(f)) continue;
    const body = readFileSync(f);
    for (const [suffix, encode] of Object.entries(ENCODERS)) {
      const out = encode(body);
      // A copy that saves little is not worth a second file (and Caddy serves the original instead).
      if (out.length > body.length * 0.9) continue;
      writeFileSync(`${f}.${suffix}`, out);
      n++;
    }
  }
  return n;
}

export function precompress(): Plugin {
  let outDir = '';
  return {
    name: 'pic-precompress',
    apply: 'build',
    configResolved(c) {
      outDir = resolve(c.root, c.build.outDir);
    },
    closeBundle() {
      if (statSync(outDir, { throwIfNoEntry: false })?.isDirectory()) precompressDir(outDir);
    },
  };
}
