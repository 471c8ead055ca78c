// The UI the HTTPS benchmark serves: web/dist when it was built (`npm run build:web`), otherwise a
// stand-in of the same shape and size written to a temp dir: the index.html Vite emits (≈ 0.6 kB,
// one module script, one stylesheet) and its two assets (a 350 kB script and a 26 kB stylesheet of
// code-like, compressible text), so compression and file sizes look like the real build's.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const BUILT = join(import.meta.dirname, '..', '..', 'web', 'dist');

export interface Ui {
  root: string;
  /** What it is, for the report. */
  label: string;
  /** The path of the largest script under /assets/ (a browser's second request). */
  script: string;
}

/** Deterministic code-like text of about `bytes` bytes (no randomness: every run serves the same). */
function codeLike(bytes: number, line: (i: number) => string): string {
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const l = line(i);
    parts.push(l);
    n += l.length;
  }
  return parts.join('');
}

export function benchUi(tmp: string): Ui {
  if (existsSync(join(BUILT, 'index.html'))) {
    const js = readdirSync(join(BUILT, 'assets')).filter((f) => f.endsWith('.js'));
    return { root: BUILT, label: 'web/dist (the built UI)', script: `/assets/${js[0] ?? 'missing.js'}` };
  }
  const root = join(tmp, 'www');
  mkdirSync(join(root, 'assets'), { recursive: true });
  const script = '/assets/index-bench.js';
  writeFileSync(
    join(root, 'index.html'),
    `<!doctype html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1.0" />
    <meta name="color-scheme" content="light dark" />
    <title>PIC — Personal Internet Cell</title>
    <link rel="icon" href="data:," />
    <script type="module" crossorigin src="${script}"></script>
    <link rel="stylesheet" crossorigin href="/assets/index-bench.css">
  </head>
  <body class="bg-slate-50 text-slate-900 dark:bg-slate-950 dark:text-slate-100">
    <div id="root"></div>
  </body>
</html>
`,
  );
  writeFileSync(
    join(root, script),
    codeLike(
      350_000,
      (i) =>
        `function c${i.toString(36)}(e,t){const n=e?.props??{};if(n.k${i % 97}!==void 0)return t(n.k${i % 97},"v${(i * 7919) % 10007}");return{type:"div",key:${i},children:[e,t]}}`,
    ),
  );
  writeFileSync(
    join(root, 'assets', 'index-bench.css'),
    codeLike(
      26_000,
      (i) =>
        `.u${i.toString(36)}{margin:${i % 13}px;padding:${i % 7}rem;color:#${((i * 2654435761) % 16777216).toString(16).padStart(6, '0')}}\n`,
    ),
  );
  return { root, label: 'a stand-in of web/dist (0.6 kB index.html, 350 kB script, 26 kB CSS)', script };
}
