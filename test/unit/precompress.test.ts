// The UI build's precompressed copies (web/precompress.ts), which cell-caddy serves as they are: each
// decompresses to its file, only text files get them, and a copy that saves little is not written.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { brotliDecompressSync, gunzipSync, zstdDecompressSync } from 'node:zlib';
import { precompressDir } from '../../web/precompress.ts';

const dir = mkdtempSync(join(tmpdir(), 'pic-precompress-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('every text file gets .br, .zst and .gz copies that decompress to it; nothing else', () => {
  mkdirSync(join(dir, 'assets'));
  const js = 'export function f(a){return a+1}\n'.repeat(500);
  writeFileSync(join(dir, 'index.html'), `<!doctype html>${'<div id="root"></div>'.repeat(40)}`);
  writeFileSync(join(dir, 'assets', 'app.js'), js);
  writeFileSync(join(dir, 'assets', 'logo.png'), Buffer.alloc(4096, 7));
  writeFileSync(join(dir, 'assets', 'tiny.css'), 'a{}');
  assert.equal(precompressDir(dir), 6);
  const file = join(dir, 'assets', 'app.js');
  assert.equal(brotliDecompressSync(readFileSync(`${file}.br`)).toString(), js);
  assert.equal(zstdDecompressSync(readFileSync(`${file}.zst`)).toString(), js);
  assert.equal(gunzipSync(readFileSync(`${file}.gz`)).toString(), js);
  for (const s of ['br', 'zst', 'gz']) {
    assert.ok(existsSync(join(dir, `index.html.${s}`)), `index.html.${s}`);
    assert.ok(!existsSync(join(dir, 'assets', `logo.png.${s}`)), 'not a text file');
    assert.ok(!existsSync(join(dir, 'assets', `tiny.css.${s}`)), 'saves less than 10 %');
  }
});
